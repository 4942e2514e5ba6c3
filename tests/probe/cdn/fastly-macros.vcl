sub vcl_recv {
#FASTLY recv
  if (req.request != "HEAD" && req.request != "GET" && req.request != "FASTLYPURGE") {
    return(pass);
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
  if (beresp.status == 500 || beresp.status == 503) {
    return(pass);
  }
  return(deliver);
}

sub vcl_deliver {
#FASTLY deliver
  return(deliver);
}
