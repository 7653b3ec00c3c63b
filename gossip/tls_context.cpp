#include "gossip/tls_context.h"

#include <openssl/x509v3.h>

#include <stdexcept>

namespace ringwatch::gossip {
namespace {

int tls_version(const std::string& name) {
  if (name.empty()) return 0;
  if (name == "VersionTLS10") return TLS1_VERSION;
  if (name == "VersionTLS11") return TLS1_1_VERSION;
  if (name == "VersionTLS12") return TLS1_2_VERSION;
  if (name == "VersionTLS13") return TLS1_3_VERSION;
  throw std::runtime_error("unknown TLS version " + name);
}

void apply_common(asio::ssl::context& ctx, const TlsConfig& tls) {
  if (int v = tls_version(tls.min_version); v != 0 && SSL_CTX_set_min_proto_version(ctx.native_handle(), v) != 1)
    throw std::runtime_error("cannot set TLS minimum version");
  // Go suite names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) are IANA names; OpenSSL's
  // cipher list takes its own names, so the list is passed as given.
  if (!tls.cipher_suites.empty() && SSL_CTX_set_cipher_list(ctx.native_handle(), tls.cipher_suites.c_str()) != 1)
    throw std::runtime_error("no usable cipher in " + tls.cipher_suites);
}

}  // namespace

TlsContexts make_tls_contexts(const TlsConfig& tls) {
  TlsContexts out;
  out.server = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  out.client = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  apply_common(*out.server, tls);
  apply_common(*out.client, tls);
  if (!tls.cert_path.empty()) {
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
  if (!tls.server_name.empty()) SSL_set_tlsext_host_name(ssl, tls.server_name.c_str());
  if (tls.insecure_skip_verify) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!tls.server_name.empty()) {
    X509_VERIFY_PARAM_set1_host(param, tls.server_name.c_str(), 0);
  } else {
    auto ip = dialed;
    if (ip.is_v6() && ip.to_v6().is_v4_mapped()) ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
    X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str());
  }
}

}  // namespace ringwatch::gossip
