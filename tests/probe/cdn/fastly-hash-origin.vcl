sub vcl_recv {
#FASTLY recv
  if (req.method == "OPTIONS") {
    return(lookup);
  }
  return(lookup);
}
sub vcl_hash {
  set req.hash += req.url;
  set req.hash += req.http.host;
  set req.hash += req.http.Origin;
#FASTLY hash
  return(hash);
}
sub vcl_fetch {
#FASTLY fetch
  if (beresp.status == 200) {
    set beresp.ttl = 300s;
  }
  return(deliver);
}
