vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "8080"; }

sub vcl_hash {
    hash_data(req.url)
    hash_data(req.http.Origin);
    return (lookup);
}
