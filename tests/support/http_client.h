// A small blocking HTTP/1.1 client for tests: plain or TLS, basic auth, loopback.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ringwatch::testing {

struct HttpRequestOptions {
  std::string method = "GET";
  std::string body;
  std::map<std::string, std::string> headers;
  std::string basic_user;      // sends Authorization: Basic when non-empty
  std::string basic_password;
  bool tls = false;
  std::string ca_file;         // verify the server against this CA; empty = no verification
  std::string client_cert_file;
  std::string client_key_file;
  std::chrono::milliseconds timeout{5000};
};

struct HttpResponse {
  int status = 0;                              // 0 when the request failed
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string error;                           // why status is 0
};

HttpResponse http_request(const std::string& host, uint16_t port, const std::string& path,
                          const HttpRequestOptions& options = {});

}  // namespace ringwatch::testing
