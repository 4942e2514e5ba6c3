vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

sub vcl_recv {
    # cache preflights too
    if (req.method == "OPTIONS") {
        return (hash);
    }
}

sub hash_cors {
    if (req.http.Origin) {
        hash_data(req.http.Origin);
    }
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    call hash_cors;
    return (lookup);
}
