/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "frr-state.h"

void frr_state_clear(struct frr_state *s)
{
	for (size_t i = 0; i < s->n_vnis; i++)
		free(s->vnis[i].vteps);
	free(s->vnis);
	free(s->peers);
	*s = (struct frr_state){};
}

bool frr_bgp_peer_up(const struct frr_bgp_peer *p)
{
	return !strcmp(p->state, "Established");
}

/* One JSON text from text (at most len bytes): the object, and where the rest starts. */
static json_object *parse_one(const char *text, size_t len, size_t *ret_used)
{
	json_tokener *tok;
	json_object *o;

	if (len > FRR_STATE_OUTPUT_MAX || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(32);
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	*ret_used = o ? json_tokener_get_parse_end(tok) : len;
	json_tokener_free(tok);
	return o;
}

static bool blank(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (t[i] != ' ' && t[i] != '\n' && t[i] != '\r' && t[i] != '\t')
			return false;
	return true;
}

/* A state FRR names: letters only (nothing a terminal or a table would take for more). */
static bool state_valid(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= sizeof(((struct frr_bgp_peer *)0)->state))
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return false;
	return true;
}

static int64_t get_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

static int parse_peer(const char *key, json_object *v, struct frr_bgp_peer *p)
{
	json_object *state, *dyn;
	int64_t up;

	*p = (struct frr_bgp_peer){ .established = -1 };
	if (!json_object_is_type(v, json_type_object) || ip_addr_parse(key, &p->family, &p->addr) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(v, "state", &state) || !json_object_is_type(state, json_type_string) ||
	    !state_valid(json_object_get_string(state)))
		return -EINVAL;
	strcpy(p->state, json_object_get_string(state));
	p->dynamic = json_object_object_get_ex(v, "dynamicPeer", &dyn) && json_object_get_boolean(dyn);
	up = get_int(v, "peerUptimeMsec", 0);
	p->uptime_msec = up > 0 ? (uint64_t)up : 0;
	p->established = get_int(v, "connectionsEstablished", -1);
	if (p->established < -1)
		p->established = -1;
	return 0;
}

int frr_state_parse_summary(const char *text, size_t len, struct frr_state *s)
{
	json_object *o, *peers, *as;
	size_t used;
	int r = 0;

	o = parse_one(text, len, &used);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	free(s->peers);
	s->peers = NULL;
	s->n_peers = 0;
	/* "{}": no BGP instance, or one without peers (frr-state.h). */
	s->bgp = json_object_object_get_ex(o, "peers", &peers) &&
		 json_object_is_type(peers, json_type_object);
	if (json_object_object_get_ex(o, "as", &as) && json_object_is_type(as, json_type_int) &&
	    json_object_get_int64(as) > 0 && json_object_get_int64(as) <= UINT32_MAX)
		s->asn = (uint32_t)json_object_get_int64(as);
	if (s->bgp) {
		size_t n = (size_t)json_object_object_length(peers);

		if (n > FRR_STATE_PEERS_MAX)
			n = FRR_STATE_PEERS_MAX;
		s->peers = calloc(n ? n : 1, sizeof(*s->peers));
		if (!s->peers)
			r = -ENOMEM;
		json_object_object_foreach(peers, key, v) {
			if (r < 0 || s->n_peers >= n)
				break;
			if (parse_peer(key, v, &s->peers[s->n_peers]) >= 0)
				s->n_peers++;
		}
	}
	json_object_put(o);
	return r;
}

static int vni_parse_vteps(json_object *a, struct frr_vni *v)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	if (n > FRR_STATE_VTEPS_MAX)
		n = FRR_STATE_VTEPS_MAX;
	if (!n)
		return 0;
	v->vteps = calloc(n, sizeof(*v->vteps));
	if (!v->vteps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct frr_peer_addr *t = &v->vteps[v->n_vteps];

		if (json_object_is_type(e, json_type_string) &&
		    ip_addr_parse(json_object_get_string(e), &t->family, &t->addr) >= 0)
			v->n_vteps++;
	}
	return 0;
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

static int vni_parse(json_object *e, struct frr_vni *v)
{
	json_object *x;
	int64_t id = get_int(e, "vni", -1);

	*v = (struct frr_vni){};
	if (!json_object_is_type(e, json_type_object) || id < 1 || id > 16777215)
		return -EINVAL;
	v->vni = (uint32_t)id;
	if (json_object_object_get_ex(e, "vxlanIf", &x) && json_object_is_type(x, json_type_string) &&
	    ifname_valid(json_object_get_string(x)))
		strcpy(v->vxlan_if, json_object_get_string(x));
	if (json_object_object_get_ex(e, "remoteVteps", &x))
		return vni_parse_vteps(x, v);
	return 0;
}

static int cmp_vni(const void *a, const void *b)
{
	const struct frr_vni *x = a, *y = b;

	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

int frr_state_parse_vnis(const char *text, size_t len, struct frr_state *s)
{
	json_object *o;
	size_t used, n;
	int r = 0;

	for (size_t i = 0; i < s->n_vnis; i++)
		free(s->vnis[i].vteps);
	free(s->vnis);
	s->vnis = NULL;
	s->n_vnis = 0;
	if (blank(text, len)) /* zebra without EVPN prints nothing */
		return 0;
	o = parse_one(text, len, &used);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	n = (size_t)json_object_object_length(o);
	if (n > FRR_STATE_VNIS_MAX)
		n = FRR_STATE_VNIS_MAX;
	s->vnis = calloc(n ? n : 1, sizeof(*s->vnis));
	if (!s->vnis)
		r = -ENOMEM;
	json_object_object_foreach(o, key, e) {
		(void)key;
		if (r < 0 || s->n_vnis >= n)
			break;
		r = vni_parse(e, &s->vnis[s->n_vnis]);
		if (r == -ENOMEM)
			break;
		if (r >= 0)
			s->n_vnis++;
		r = 0;
	}
	if (s->n_vnis)
		qsort(s->vnis, s->n_vnis, sizeof(*s->vnis), cmp_vni);
	json_object_put(o);
	return r;
}

int frr_state_parse(const char *text, size_t len, struct frr_state *s)
{
	json_object *o;
	size_t used;
	int r;

	/* vtysh's warnings ("% Can't open configuration file ...") come first, on its stderr */
	while (len && text[0] == '%') {
		const char *nl = memchr(text, '\n', len);

		if (!nl)
			return -EINVAL;
		len -= (size_t)(nl + 1 - text);
		text = nl + 1;
	}

	o = parse_one(text, len, &used);
	json_object_put(o);
	if (!o)
		return -EINVAL;
	r = frr_state_parse_summary(text, used, s);
	if (r < 0)
		return r;
	return frr_state_parse_vnis(text + used, len - used, s);
}
