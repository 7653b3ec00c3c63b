#include "gossip/tls_context.h"

#include <openssl/x509v3.h>

#include <stdexcept>
#include <string_view>

namespace ringwatch::gossip {
namespace {

int tls_version(const std::string& name) {
  if (name.empty()) return 0;
  if (name == "VersionTLS10") return TLS1_VERSION;
  if (name == "VersionTLS11") return TLS1_1_VERSION;
  if (name == "VersionTLS12") return TLS1_2_VERSION;
  if (name == "VersionTLS13") return TLS1_3_VERSION;
  throw std::runtime_error("unknown TLS version \"" + name + "\" (VersionTLS10, VersionTLS11, VersionTLS12 or VersionTLS13)");
}

struct Suite {
  std::string_view go;       // crypto/tls name, what -memberlist.tls-cipher-suites takes
  std::string_view openssl;  // "" for TLS 1.3 suites, which Go does not let configure
};

// Every name of Go's tls.CipherSuites() and tls.InsecureCipherSuites(), the set dskit accepts.
constexpr Suite kSuites[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
};

}  // namespace

std::string openssl_cipher_list(const std::string& go_suites) {
  std::string out;
  std::string_view rest = go_suites;
  // Split as Go's strings.Split does: "a," has an empty second name, which is unknown.
  for (bool last = false; !last;) {
    auto comma = rest.find(',');
    last = comma == std::string_view::npos;
    auto name = rest.substr(0, comma);
    if (!last) rest.remove_prefix(comma + 1);
    const Suite* found = nullptr;
    for (const auto& s : kSuites)
      if (s.go == name) found = &s;
    if (found == nullptr) throw std::runtime_error("unsupported TLS cipher suite \"" + std::string(name) + "\"");
    if (found->openssl.empty()) continue;
    if (!out.empty()) out += ':';
    out += found->openssl;
  }
  return out;
}

namespace {

void apply_common(asio::ssl::context& ctx, const TlsConfig& tls) {
  SSL_CTX* native = ctx.native_handle();
  if (int v = tls_version(tls.min_version); v != 0 && SSL_CTX_set_min_proto_version(native, v) != 1)
    throw std::runtime_error("cannot set TLS minimum version " + tls.min_version);
  if (tls.cipher_suites.empty()) return;
  auto list = openssl_cipher_list(tls.cipher_suites);
  if (list.empty()) {
    // Only TLS 1.3 suites: Go then has no suite for older versions, so only 1.3 can succeed.
    SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
  } else if (SSL_CTX_set_cipher_list(native, list.c_str()) != 1) {
    throw std::runtime_error("no cipher suite of \"" + tls.cipher_suites + "\" is available in this OpenSSL");
  }
}

bool is_ip(const std::string& text) {
  std::error_code ec;
  (void)asio::ip::make_address(text, ec);
  return !ec;
}

}  // namespace

TlsContexts make_tls_contexts(const TlsConfig& tls) {
  TlsContexts out;
  out.server = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  out.client = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  apply_common(*out.server, tls);
  apply_common(*out.client, tls);
  if (!tls.cert_path.empty() || !tls.key_path.empty()) {
    out.server->use_certificate_chain_file(tls.cert_path);
    out.server->use_private_key_file(tls.key_path, asio::ssl::context::pem);
  }
  out.server->set_verify_mode(asio::ssl::verify_none);
  if (tls.insecure_skip_verify) {
    out.client->set_verify_mode(asio::ssl::verify_none);
  } else {
    out.client->set_verify_mode(asio::ssl::verify_peer);
    if (tls.ca_path.empty()) out.client->set_default_verify_paths();
    else out.client->load_verify_file(tls.ca_path);
  }
  return out;
}

void prepare_client_tls(SSL* ssl, const TlsConfig& tls, const asio::ip::address& dialed) {
  // Like Go: SNI only for a configured host name, never for an IP.
  const bool name_is_ip = is_ip(tls.server_name);
  if (!tls.server_name.empty() && !name_is_ip) SSL_set_tlsext_host_name(ssl, tls.server_name.c_str());
  if (tls.insecure_skip_verify) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!tls.server_name.empty()) {
    if (name_is_ip) X509_VERIFY_PARAM_set1_ip_asc(param, tls.server_name.c_str());
    else X509_VERIFY_PARAM_set1_host(param, tls.server_name.c_str(), 0);
  } else {
    auto ip = dialed;
    if (ip.is_v6() && ip.to_v6().is_v4_mapped()) ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
    X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str());
  }
}

}  // namespace ringwatch::gossip
