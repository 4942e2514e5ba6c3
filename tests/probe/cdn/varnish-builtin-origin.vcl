vcl 4.1;

import std;

backend default {
    .host = "127.0.0.1";
    .port = "3000";
}

# builtin vcl_hash shape, plus the caller's Origin
sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    hash_data(req.http.Origin);
    return (lookup);
}
