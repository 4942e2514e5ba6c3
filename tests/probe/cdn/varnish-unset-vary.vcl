vcl 4.1;
import std;
backend default { .host = "127.0.0.1"; .port = "3000"; }
sub vcl_recv {
    if (req.method == "OPTIONS") {
        return (hash);
    }
    if (req.http.Cookie) {
        unset req.http.Cookie;
    }
}
sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) { hash_data(req.http.host); } else { hash_data(server.ip); }
    hash_data(req.http.Origin);
    hash_data(req.method);
    return (lookup);
}
sub vcl_backend_response {
    if (beresp.http.Vary) {
        unset beresp.http.Vary;
    }
    if (beresp.status == 200) {
        set beresp.ttl = 5m;
        set beresp.grace = 1h;
    }
    return (deliver);
}
