// The HTTP server (civetweb): exact-path handlers, TLS and basic authentication from the
// web configuration file, and the headers it asks for. Handlers run on civetweb's worker
// threads and must only read published snapshots, never wait for the gossip loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/tls_frontend.h"
#include "exporter/web_config.h"

struct mg_context;
struct mg_connection;

namespace ringwatch {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;  // without '?'

  // The value of a query parameter, or "" when absent.
  std::string param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // `listen_addresses` in Go form: ":10946", "127.0.0.1:0", "[::1]:10946".
  HttpServer(std::vector<std::string> listen_addresses, WebConfig web);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for exactly this path. Call before start().
  void handle(const std::string& path, Handler handler);

  // Binds and starts serving. Throws std::runtime_error naming the address on failure.
  void start();
  void stop();

  // The bound ports, in the order of the listen addresses (useful with port 0).
  std::vector<int> ports() const;
  bool tls() const { return web_.tls_enabled; }

 private:
  struct Route {
    HttpServer* server;
    std::string path;
    Handler handler;
  };
  static int dispatch(mg_connection* conn, void* route);
  static int begin_request(mg_connection* conn);
  static int log_message(const mg_connection* conn, const char* message);

  bool authorized(mg_connection* conn);
  void send(mg_connection* conn, const HttpResponse& response, bool head_only);

  std::vector<std::string> listen_addresses_;
  WebConfig web_;
  std::vector<std::unique_ptr<Route>> routes_;
  mg_context* ctx_ = nullptr;
  std::unique_ptr<TlsFrontend> tls_frontend_;  // set when the web configuration enables TLS

  // bcrypt is slow on purpose; remember credentials already verified (user -> SHA-256 of password).
  std::mutex auth_mu_;
  std::map<std::string, std::string> verified_;
};

}  // namespace ringwatch
