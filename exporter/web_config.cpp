#include "exporter/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "exporter/config.h"

namespace ringwatch {
namespace {

const std::set<std::string> kClientAuthTypes = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                                "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
const std::set<std::string> kTlsVersions = {"TLS10", "TLS11", "TLS12", "TLS13"};

class Parser {
 public:
  Parser(std::string source, std::string base_dir) : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  WebConfig parse(const YAML::Node& root) {
    WebConfig wc;
    if (root.IsNull()) return wc;
    if (!root.IsMap()) fail(root, "", "expected a mapping at the top level");
    for (const auto& e : root) {
      const std::string key = e.first.as<std::string>();
      if (key == "tls_server_config") {
        parse_tls(e.second, wc);
      } else if (key == "http_server_config") {
        parse_http(e.second, wc);
      } else if (key == "basic_auth_users") {
        parse_users(e.second, wc);
      } else {
        fail(e.first, "", "unknown field \"" + key + "\"");
      }
    }
    if (wc.tls_enabled) validate_tls(root, wc.tls);
    return wc;
  }

 private:
  [[noreturn]] void fail(const YAML::Node& n, const std::string& field, const std::string& what) {
    throw ConfigError("web config file \"" + source_ + "\": line " + std::to_string(n.Mark().line + 1) + ": " +
                      (field.empty() ? "" : field + ": ") + what);
  }

  std::string scalar(const YAML::Node& n, const std::string& field) {
    if (!n.IsScalar()) fail(n, field, "expected a single value");
    return n.Scalar();
  }

  std::string path(const YAML::Node& n, const std::string& field) {
    std::string p = scalar(n, field);
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(base_dir_) / p).string();
  }

  void parse_tls(const YAML::Node& n, WebConfig& wc) {
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(n, "tls_server_config", "expected a mapping");
    wc.tls_enabled = true;
    for (const auto& e : n) {
      const std::string key = e.first.as<std::string>();
      const std::string field = "tls_server_config." + key;
      if (key == "cert_file") {
        wc.tls.cert_file = path(e.second, field);
      } else if (key == "key_file") {
        wc.tls.key_file = path(e.second, field);
      } else if (key == "client_ca_file") {
        wc.tls.client_ca_file = path(e.second, field);
      } else if (key == "client_auth_type") {
        wc.tls.client_auth_type = scalar(e.second, field);
        if (!kClientAuthTypes.count(wc.tls.client_auth_type)) {
          fail(e.second, field, "invalid value \"" + wc.tls.client_auth_type + "\"");
        }
      } else if (key == "min_version" || key == "max_version") {
        std::string v = scalar(e.second, field);
        if (!kTlsVersions.count(v)) fail(e.second, field, "invalid value \"" + v + "\" (TLS10 to TLS13)");
        (key == "min_version" ? wc.tls.min_version : wc.tls.max_version) = v;
      } else if (key == "prefer_server_cipher_suites") {
        scalar(e.second, field);  // a no-op in Go since 1.18 as well
      } else if (key == "cipher_suites" || key == "curve_preferences" || key == "client_allowed_sans" ||
                 key == "cert" || key == "key") {
        fail(e.first, field, "not supported by ringwatch");
      } else {
        fail(e.first, "", "unknown field \"" + field + "\"");
      }
    }
  }

  void validate_tls(const YAML::Node& root, const TlsServerConfig& t) {
    if (t.cert_file.empty() || t.key_file.empty()) {
      fail(root, "tls_server_config", "cert_file and key_file are required");
    }
    bool needs_ca = t.client_auth_type == "VerifyClientCertIfGiven" || t.client_auth_type == "RequireAndVerifyClientCert";
    if (needs_ca && t.client_ca_file.empty()) {
      fail(root, "tls_server_config.client_ca_file", "required when client_auth_type is " + t.client_auth_type);
    }
    if (!t.max_version.empty() && t.max_version < t.min_version) {
      fail(root, "tls_server_config.max_version", "lower than min_version");
    }
  }

  void parse_http(const YAML::Node& n, WebConfig& wc) {
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(n, "http_server_config", "expected a mapping");
    for (const auto& e : n) {
      const std::string key = e.first.as<std::string>();
      if (key == "http2") {
        scalar(e.second, "http_server_config.http2");  // ringwatch serves HTTP/1.1 only
      } else if (key == "headers") {
        if (!e.second.IsMap()) fail(e.second, "http_server_config.headers", "expected a mapping");
        for (const auto& h : e.second) {
          wc.headers[h.first.as<std::string>()] = scalar(h.second, "http_server_config.headers");
        }
      } else {
        fail(e.first, "", "unknown field \"http_server_config." + key + "\"");
      }
    }
  }

  void parse_users(const YAML::Node& n, WebConfig& wc) {
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(n, "basic_auth_users", "expected a mapping of user to bcrypt hash");
    for (const auto& e : n) {
      const std::string user = e.first.as<std::string>();
      std::string hash = scalar(e.second, "basic_auth_users." + user);
      if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2') {
        fail(e.second, "basic_auth_users." + user, "not a bcrypt hash");
      }
      wc.basic_auth_users[user] = hash;
    }
  }

  std::string source_;
  std::string base_dir_;
};

}  // namespace

WebConfig parse_web_config(const std::string& yaml_text, const std::string& source, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("web config file \"" + source + "\": line " + std::to_string(e.mark.line + 1) +
                      ": invalid YAML: " + e.msg);
  }
  try {
    return Parser(source, base_dir).parse(root);
  } catch (const YAML::Exception& e) {  // e.g. a key that is a list or a mapping
    throw ConfigError("web config file \"" + source + "\": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

WebConfig load_web_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("web.config.file: \"" + path + "\" cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_web_config(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace ringwatch
