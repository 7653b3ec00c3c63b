// The web configuration file of the Prometheus exporter toolkit (--web.config.file):
// TLS for the HTTP server and bcrypt basic authentication.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ringwatch {

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  std::string client_auth_type = "NoClientCert";
  std::string min_version = "TLS12";
  std::string max_version;  // empty = highest supported
};

struct WebConfig {
  bool tls_enabled = false;
  TlsServerConfig tls;
  std::map<std::string, std::string> headers;           // http_server_config.headers
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
};

// Parses the file; throws ConfigError naming the offending field. Paths in the file are
// relative to the file's directory, as in the exporter toolkit.
WebConfig load_web_config(const std::string& path);
WebConfig parse_web_config(const std::string& yaml_text, const std::string& source, const std::string& base_dir);

}  // namespace ringwatch
