vcl 4.0;

backend api { .host = "127.0.0.1"; .port = "8080"; }

sub vcl_recv {
    # preflights are cacheable here, keyed below
    if (req.method == "OPTIONS") {
        return (hash);
    }
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    if (req.http.Origin) {
        hash_data(req.http.Origin);
    }
    return (lookup);
}
