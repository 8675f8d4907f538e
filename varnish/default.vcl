#
# Varnish in front of the newsroom's gunicorn (docs/varnish.md).
#
# Caches anonymous GET/HEAD of public pages for as long as the site says
# (Cache-Control s-maxage); the site purges them by dependency key (xkey) the
# moment a change commits. Everything personal goes straight to the site.
#
#   varnishd -n <dir> -a 127.0.0.1:6081 -f varnish/default.vcl -s malloc,256m
#
# The backend below is the default gunicorn address; varnish/run.py rewrites
# its port when it starts Varnish for `make serve-cached`, the tests and the
# load test. NEWSROOM_PURGE_TOKEN in varnishd's environment, when set, lets
# purges come from other machines too (X-Purge-Token header).
#
vcl 4.1;

import std;
import var;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
}

# Who may purge without the token: this machine.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    # When the last purge arrived (seconds since the epoch); see vcl_backend_response.
    var.global_set("purged_at", "0");
}

sub vcl_recv {
    if (req.method == "PURGE") {
        call newsroom_purge;
    }

    # Only reads are cached; the builtin VCL pipes unknown methods, we pass them.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    # The admin, previews (signed links and the admin's), the health check.
    if (req.url ~ "^/(admin|preview)(/|\?|$)" || req.url ~ "^/healthz(/|\?|$)") {
        return (pass);
    }

    # An editor or any logged-in user, or someone with a flash message waiting:
    # their pages are their own (the site marks them private, no-store too).
    if (req.http.Authorization || req.http.Cookie ~ "(^|;)\s*(sessionid|messages)=") {
        return (pass);
    }

    # Public pages are the same for every anonymous reader: drop the other
    # cookies (csrftoken, analytics), which would otherwise make every request
    # a pass (builtin VCL) and split the cache (the site sends Vary: Cookie).
    # No public page posts a form; the forms that do (admin login) are passed above.
    unset req.http.Cookie;
    return (hash);
}

sub newsroom_purge {
    # From this machine, directly (a proxy on this machine adds X-Forwarded-For,
    # and then the request is someone else's), or with the shared secret.
    if (!((client.ip ~ purgers && req.http.X-Forwarded-For == "" + client.ip)
          || (std.getenv("NEWSROOM_PURGE_TOKEN") != ""
              && req.http.X-Purge-Token == std.getenv("NEWSROOM_PURGE_TOKEN")))) {
        return (synth(403, "Forbidden"));
    }
    if (!req.http.xkey-purge) {
        return (synth(400, "An xkey-purge header is required"));
    }
    # Before purging: a fetch that started before now may carry the old content (vcl_backend_response).
    var.global_set("purged_at", "" + std.time2real(now, 0.0));
    # A hard purge: the objects are gone, not kept for grace.
    set req.http.n-gone = xkey.purge(req.http.xkey-purge);
    return (synth(200, "Purged " + req.http.n-gone));
}

sub vcl_pass {
    set req.http.X-Cache = "PASS";
}

sub vcl_backend_fetch {
    # When this fetch started, for the purge race below.
    var.set_real("fetch_started", std.time2real(now, 0.0));
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }

    # The purge race: a page the site began rendering before a change committed
    # can reach us after the change's purge, and would then be kept stale until
    # it expires. The site purges every change twice, at once and 0.5 s later
    # (articles/caching/purge.py): that second purge drops any such page that
    # arrived by then. A fetch that spans a purge and took longer than those
    # 0.5 s could arrive after both, so it is delivered to whoever asked but
    # not kept (a short hit-for-miss: the next fetch replaces it). Only slow
    # fetches during a purge pay this, so an edit a second does not stop
    # Varnish from keeping pages however busy the site is.
    if (var.get_real("fetch_started") <= std.real(var.global_get("purged_at"), 0.0)
        && std.time2real(now, 0.0) - var.get_real("fetch_started") > 0.5) {
        set beresp.uncacheable = true;
        set beresp.ttl = 1s;
        set beresp.grace = 0s;
        return (deliver);
    }

    # Only what the site explicitly allows shared caches to keep
    # (Cache-Control public/s-maxage/max-age); no Cache-Control means not cached
    # (Varnish would otherwise keep it default_ttl, beyond any purge's reach).
    # The builtin VCL then refuses private, no-store, no-cache and Set-Cookie.
    if (!beresp.http.Cache-Control || beresp.http.Cache-Control !~ "(public|s-maxage|max-age)") {
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        return (deliver);
    }

    # No grace: a page is served until it is purged or its s-maxage ends (never
    # past the next scheduled publication, the site sees to that), then fetched
    # again, with concurrent readers waiting for that one fetch.
    set beresp.grace = 0s;
}

sub vcl_deliver {
    if (req.http.X-Cache) {
        # PASS, set in vcl_pass.
    } elsif (obj.hits > 0) {
        set req.http.X-Cache = "HIT";
    } else {
        set req.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache = req.http.X-Cache;

    # The dependency keys are between the site and its caches.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
    unset resp.http.Surrogate-Control;
}

sub vcl_synth {
    set resp.http.X-Cache = "SYNTH";
}
