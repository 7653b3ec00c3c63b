#include "exporter/http_server.h"

#include "exporter/base64.h"

#include <civetweb.h>
#include <crypt.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

namespace ringwatch {
namespace {

// civetweb's listening_ports syntax for a Go listen address.
std::string civet_port(const std::string& addr) {
  if (!addr.empty() && addr[0] == ':') return addr.substr(1);  // ":10946" = every IPv4 address
  return addr;
}

std::string sha256(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  return out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
         CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace

std::string HttpRequest::param(const std::string& name) const {
  char buf[1024];
  int n = mg_get_var(query.c_str(), query.size(), name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

HttpServer::HttpServer(std::vector<std::string> listen_addresses, WebConfig web)
    : listen_addresses_(std::move(listen_addresses)), web_(std::move(web)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(const std::string& path, Handler handler) {
  routes_.push_back(std::make_unique<Route>(Route{this, path, std::move(handler)}));
}

void HttpServer::start() {
  // With TLS, civetweb serves plaintext on a loopback port behind the TLS frontend.
  std::string ports = "127.0.0.1:0";
  if (!web_.tls_enabled) {
    ports.clear();
    for (const auto& a : listen_addresses_) ports += (ports.empty() ? "" : ",") + civet_port(a);
  }
  const char* options[] = {"listening_ports", ports.c_str(),
                           "num_threads", "8",
                           "request_timeout_ms", "10000",
                           "enable_keep_alive", "yes",
                           "keep_alive_timeout_ms", "10000",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = &HttpServer::begin_request;
  callbacks.log_message = &HttpServer::log_message;
  ctx_ = mg_start(&callbacks, this, options);
  if (ctx_ == nullptr) throw std::runtime_error("cannot listen on " + ports);
  for (const auto& r : routes_) {
    // "$" anchors civetweb's prefix match, so each handler serves exactly its path.
    mg_set_request_handler(ctx_, (r->path + "$").c_str(), &HttpServer::dispatch, r.get());
  }
  if (web_.tls_enabled) {
    mg_server_port sp{};
    mg_get_server_ports(ctx_, 1, &sp);
    tls_frontend_ = std::make_unique<TlsFrontend>(web_.tls, listen_addresses_, static_cast<uint16_t>(sp.port));
    try {
      tls_frontend_->start();
    } catch (...) {
      stop();
      throw;
    }
  }
}

void HttpServer::stop() {
  if (tls_frontend_) {
    tls_frontend_->stop();
    tls_frontend_.reset();
  }
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

std::vector<int> HttpServer::ports() const {
  if (tls_frontend_) return tls_frontend_->ports();
  std::vector<int> out;
  if (ctx_ == nullptr) return out;
  mg_server_port sp[16];
  int n = mg_get_server_ports(ctx_, 16, sp);
  for (int i = 0; i < n; ++i) out.push_back(sp[i].port);
  return out;
}

int HttpServer::log_message(const mg_connection*, const char* message) {
  spdlog::get("http") ? spdlog::get("http")->warn("{}", message) : spdlog::warn("http: {}", message);
  return 1;
}

bool HttpServer::authorized(mg_connection* conn) {
  if (web_.basic_auth_users.empty()) return true;
  const char* header = mg_get_header(conn, "Authorization");
  if (header == nullptr || strncasecmp(header, "Basic ", 6) != 0) return false;
  std::string decoded = base64_decode(header + 6).value_or("");
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  std::string user = decoded.substr(0, colon);
  std::string password = decoded.substr(colon + 1);
  std::string digest = sha256(user + '\0' + password);
  {
    std::lock_guard<std::mutex> lock(auth_mu_);
    auto it = verified_.find(user);
    if (it != verified_.end() && it->second == digest) return true;
  }
  auto it = web_.basic_auth_users.find(user);
  // Unknown users cost a bcrypt run as well, so response time does not reveal who exists.
  static const std::string kDummy = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
  bool ok = bcrypt_matches(password, it == web_.basic_auth_users.end() ? kDummy : it->second) &&
            it != web_.basic_auth_users.end();
  if (ok) {
    std::lock_guard<std::mutex> lock(auth_mu_);
    verified_[user] = digest;
  }
  return ok;
}

int HttpServer::begin_request(mg_connection* conn) {
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  if (self->tls_frontend_ && !self->tls_frontend_->is_relay(static_cast<uint16_t>(mg_get_request_info(conn)->remote_port))) {
    mg_printf(conn, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return 403;  // someone on this host bypassing TLS through the internal port
  }
  if (self->authorized(conn)) return 0;  // let civetweb route it
  HttpResponse r{401, "text/plain; charset=utf-8", "Unauthorized\n"};
  mg_printf(conn, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n");
  for (const auto& [k, v] : self->web_.headers) mg_printf(conn, "%s: %s\r\n", k.c_str(), v.c_str());
  mg_printf(conn, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", r.content_type.c_str(), r.body.size(),
            r.body.c_str());
  return 401;
}

int HttpServer::dispatch(mg_connection* conn, void* data) {
  auto* route = static_cast<Route*>(data);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req{info->request_method ? info->request_method : "", info->local_uri ? info->local_uri : "",
                  info->query_string ? info->query_string : ""};
  HttpResponse resp;
  if (req.method != "GET" && req.method != "HEAD") {
    resp = {405, "text/plain; charset=utf-8", "Only GET and HEAD are allowed.\n"};
  } else {
    try {
      resp = route->handler(req);
    } catch (const std::exception& e) {
      resp = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
  }
  route->server->send(conn, resp, req.method == "HEAD");
  return resp.status;
}

void HttpServer::send(mg_connection* conn, const HttpResponse& r, bool head_only) {
  mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n", r.status,
            reason_phrase(r.status), r.content_type.c_str(), r.body.size());
  if (r.status == 405) mg_printf(conn, "Allow: GET, HEAD\r\n");
  for (const auto& [k, v] : web_.headers) mg_printf(conn, "%s: %s\r\n", k.c_str(), v.c_str());
  mg_printf(conn, "\r\n");
  if (!head_only) mg_write(conn, r.body.data(), r.body.size());
}

}  // namespace ringwatch
