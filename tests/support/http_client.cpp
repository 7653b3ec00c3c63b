#include "tests/support/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

namespace ringwatch::testing {
namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Connects with a deadline, then leaves the socket blocking with send/receive timeouts.
int connect_with_timeout(const std::string& host, uint16_t port, std::chrono::milliseconds timeout,
                         std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    error = std::string("resolve: ") + gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket failed";
    return -1;
  }
  auto fail = [&](std::string why) {
    error = std::move(why);
    ::close(fd);
    return -1;
  };
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return fail(std::string("connect: ") + strerror(errno));
  }
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return fail("connect timeout");
  int soerr = 0;
  socklen_t len = sizeof soerr;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) return fail(std::string("connect: ") + strerror(soerr));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// A byte pipe over a plain socket or a TLS session.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    if (ctx_) SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool start_tls(const HttpRequestOptions& o, const std::string& host, std::string& error) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!o.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr) != 1) {
        error = "cannot load CA " + o.ca_file;
        return false;
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!o.client_cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx_, o.client_cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx_, o.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
      error = "cannot load client certificate";
      return false;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (!o.ca_file.empty()) SSL_set1_host(ssl_, host.c_str());
    if (SSL_connect(ssl_) != 1) {
      error = "TLS handshake failed";
      return false;
    }
    return true;
  }

  bool write_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      long n = ssl_ ? SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off))
                    : ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the peer closes (the request asks for Connection: close).
  std::string read_all() {
    std::string out;
    char buf[16384];
    for (;;) {
      long n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Decodes a chunked transfer-encoded body.
std::string dechunk(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t len = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (len == 0) break;
    out.append(body, eol + 2, len);
    pos = eol + 2 + len + 2;
  }
  return out;
}

}  // namespace

HttpResponse http_request(const std::string& host, uint16_t port, const std::string& path,
                          const HttpRequestOptions& options) {
  HttpResponse resp;
  int fd = connect_with_timeout(host, port, options.timeout, resp.error);
  if (fd < 0) return resp;
  Channel ch(fd);
  if (options.tls && !ch.start_tls(options, host, resp.error)) return resp;

  std::ostringstream req;
  req << options.method << ' ' << path << " HTTP/1.1\r\nHost: " << host << ':' << port
      << "\r\nConnection: close\r\n";
  if (!options.basic_user.empty()) {
    req << "Authorization: Basic " << base64(options.basic_user + ":" + options.basic_password) << "\r\n";
  }
  for (const auto& [k, v] : options.headers) req << k << ": " << v << "\r\n";
  if (!options.body.empty() || options.method == "POST") {
    req << "Content-Length: " << options.body.size() << "\r\n";
  }
  req << "\r\n" << options.body;
  if (!ch.write_all(req.str())) {
    resp.error = "write failed";
    return resp;
  }
  std::string raw = ch.read_all();
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) {
    resp.error = "malformed response (" + std::to_string(raw.size()) + " bytes)";
    return resp;
  }
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  resp.status = std::stoi(line.substr(line.find(' ') + 1, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t vstart = line.find_first_not_of(' ', colon + 1);
    resp.headers[lower(line.substr(0, colon))] = vstart == std::string::npos ? "" : line.substr(vstart);
  }
  resp.body = raw.substr(head_end + 4);
  if (lower(resp.headers["transfer-encoding"]) == "chunked") resp.body = dechunk(resp.body);
  return resp;
}

}  // namespace ringwatch::testing
