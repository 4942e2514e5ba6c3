sub add_origin_to_key {
  set req.hash += req.http.Origin;
}

sub vcl_recv {
#FASTLY recv
  if (req.request == "OPTIONS") {
    return(lookup);
  }
  if (req.request != "HEAD" && req.request != "GET" && req.request != "FASTLYPURGE") {
    return(pass);
  }
  return(lookup);
}

sub vcl_hash {
  set req.hash += req.url;
  set req.hash += req.http.host;
  call add_origin_to_key;
#FASTLY hash
  return(hash);
}

sub vcl_fetch {
#FASTLY fetch
  return(deliver);
}
