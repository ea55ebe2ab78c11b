/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "link.h"

void link_dump_free(struct link_dump *d)
{
	if (!d)
		return;
	free(d->links);
	free(d->addrs);
	free(d->routes);
	*d = (struct link_dump){};
}

const struct link_info *link_dump_find_index(const struct link_dump *d, int ifindex)
{
	for (size_t i = 0; i < d->n_links; i++)
		if (d->links[i].ifindex == ifindex)
			return &d->links[i];
	return NULL;
}

const struct link_info *link_dump_find_name(const struct link_dump *d, const char *name)
{
	for (size_t i = 0; i < d->n_links; i++)
		if (!strcmp(d->links[i].name, name))
			return &d->links[i];
	return NULL;
}

const char *link_dump_ifname(const struct link_dump *d, int ifindex)
{
	const struct link_info *l = link_dump_find_index(d, ifindex);

	return l ? l->name : "?";
}
