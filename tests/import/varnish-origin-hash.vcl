vcl 4.1;
# variant of the lab's Varnish peer: Origin hashed into the key
backend origin { .host = "127.0.0.1"; .port = "18080"; }
sub vcl_hash {
    hash_data(req.http.Origin);
}
