sub vcl_recv {
#FASTLY recv
  if (req.http.Authorization) {
    return(pass);
  }
  unset req.http.Cookie;
  return(lookup);
}
sub vcl_hash {
  set req.hash += req.url;
  set req.hash += req.http.host;
  set req.hash += req.http.Origin;
  return(hash);
}
sub vcl_fetch {
  set beresp.ttl = 300s;
}
