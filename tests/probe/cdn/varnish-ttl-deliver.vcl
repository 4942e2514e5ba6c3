vcl 4.1;
backend b { .host = "o"; }
sub vcl_recv {
  unset req.http.Cookie;
  if (req.http.Authorization) { return (pass); }
  if (req.method == "OPTIONS") { return (hash); }
}
sub vcl_backend_fetch {
  set bereq.http.X-From = "edge";
}
sub vcl_backend_response {
  set beresp.ttl = 5m;
  return (deliver);
}
