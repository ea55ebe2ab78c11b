/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One message through common/log.c to the real journal socket (test-journal.sh): a guest name and
 * a text with newlines that try to forge fields. Run with JOURNAL_STREAM naming its stderr.
 *   journal-log   logs GUEST="g\nNETWORK=forged", MESSAGE="hostname evil\nBRIDGE=forged\nPRIORITY=0"
 */
#include "log.h"

int main(void)
{
	log_guest(LOG_INFO, "g\nNETWORK=forged", "hostname evil\nBRIDGE=forged\nPRIORITY=0");
	return 0;
}
