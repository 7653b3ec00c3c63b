// The HTTP endpoints, through real requests over loopback, plain and with TLS and
// basic authentication from a web configuration file.
#include <crypt.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "exporter/config.h"
#include "exporter/exporter.h"
#include "exporter/web_config.h"
#include "tests/support/http_client.h"

using namespace ringwatch;
using ringwatch::testing::http_request;
using ringwatch::testing::HttpRequestOptions;

namespace {

Config loopback_config() {
  Config c;
  c.web_listen_addresses = {"127.0.0.1:0"};
  return c;
}

std::string bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2y$", 5, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

// A self-signed certificate for 127.0.0.1, made once per test binary with openssl(1).
struct TestCertificate {
  std::filesystem::path dir;
  std::string cert, key;
  TestCertificate() {
    dir = std::filesystem::temp_directory_path() / ("ringwatch-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                      "-subj /CN=ringwatch-test -addext subjectAltName=IP:127.0.0.1 -keyout " +
                      key + " -out " + cert + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  ~TestCertificate() { std::filesystem::remove_all(dir); }
};

const TestCertificate& certificate() {
  static TestCertificate c;
  return c;
}

}  // namespace

TEST(Http, ServesEndpointsOverLoopback) {
  Exporter e(loopback_config(), WebConfig{});
  e.start();
  auto port = static_cast<uint16_t>(e.http().ports().at(0));
  ASSERT_GT(port, 0);

  auto landing = http_request("127.0.0.1", port, "/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(landing.body.find("href=\"/metrics\""), std::string::npos);

  auto metrics = http_request("127.0.0.1", port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("ringwatch_build_info{"), std::string::npos);
  EXPECT_NE(metrics.body.find("version=\""), std::string::npos);
  EXPECT_NE(metrics.body.find("revision=\""), std::string::npos);
  EXPECT_NE(metrics.body.find("} 1\n"), std::string::npos);
  for (const char* m : {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
                        "process_max_fds ", "process_start_time_seconds ", "process_virtual_memory_bytes "}) {
    EXPECT_NE(metrics.body.find(std::string("\n") + m), std::string::npos) << m;
  }

  EXPECT_EQ(http_request("127.0.0.1", port, "/-/healthy").status, 200);
  auto not_ready = http_request("127.0.0.1", port, "/-/ready");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(http_request("127.0.0.1", port, "/metrics").body.find("\nringwatch_ready 0\n"), std::string::npos);
  e.set_ready();
  EXPECT_EQ(http_request("127.0.0.1", port, "/-/ready").status, 200);
  EXPECT_NE(http_request("127.0.0.1", port, "/metrics").body.find("\nringwatch_ready 1\n"), std::string::npos);

  EXPECT_EQ(http_request("127.0.0.1", port, "/nonexistent").status, 404);
  EXPECT_EQ(http_request("127.0.0.1", port, "/metricsx").status, 404);
  HttpRequestOptions post;
  post.method = "POST";
  EXPECT_EQ(http_request("127.0.0.1", port, "/metrics", post).status, 405);
  e.stop();
}

TEST(Http, TelemetryPathIsConfigurable) {
  Config c = loopback_config();
  c.web_telemetry_path = "/custom";
  Exporter e(c, WebConfig{});
  e.start();
  auto port = static_cast<uint16_t>(e.http().ports().at(0));
  EXPECT_EQ(http_request("127.0.0.1", port, "/custom").status, 200);
  EXPECT_EQ(http_request("127.0.0.1", port, "/metrics").status, 404);
  EXPECT_NE(http_request("127.0.0.1", port, "/").body.find("href=\"/custom\""), std::string::npos);
}

TEST(Http, TlsAndBasicAuthFromTheWebConfigFile) {
  const auto& tc = certificate();
  std::string yaml = "tls_server_config:\n  cert_file: " + tc.cert + "\n  key_file: " + tc.key +
                     "\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                     "basic_auth_users:\n  alice: " + bcrypt("wonderland") + "\n";
  WebConfig web = parse_web_config(yaml, "test", "/");
  Exporter e(loopback_config(), web);
  e.start();
  auto port = static_cast<uint16_t>(e.http().ports().at(0));

  HttpRequestOptions opts;
  opts.tls = true;
  opts.ca_file = tc.cert;  // verify the server's certificate and its IP address
  auto anonymous = http_request("127.0.0.1", port, "/metrics", opts);
  EXPECT_EQ(anonymous.status, 401) << anonymous.error;
  EXPECT_EQ(anonymous.headers["www-authenticate"], "Basic");

  opts.basic_user = "alice";
  opts.basic_password = "wrong";
  EXPECT_EQ(http_request("127.0.0.1", port, "/metrics", opts).status, 401);
  opts.basic_user = "mallory";
  EXPECT_EQ(http_request("127.0.0.1", port, "/metrics", opts).status, 401);

  opts.basic_user = "alice";
  opts.basic_password = "wonderland";
  for (int i = 0; i < 2; ++i) {  // the second request is served from the verified-credentials cache
    auto ok = http_request("127.0.0.1", port, "/metrics", opts);
    EXPECT_EQ(ok.status, 200) << ok.error;
    EXPECT_NE(ok.body.find("ringwatch_build_info"), std::string::npos);
    EXPECT_EQ(ok.headers["x-frame-options"], "deny");
  }

  // Plain HTTP to a TLS port gets no HTTP answer.
  EXPECT_EQ(http_request("127.0.0.1", port, "/metrics").status, 0);
}

TEST(Http, RequiresClientCertificatesWhenConfigured) {
  const auto& tc = certificate();
  std::string yaml = "tls_server_config:\n  cert_file: " + tc.cert + "\n  key_file: " + tc.key +
                     "\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: " + tc.cert + "\n";
  Exporter e(loopback_config(), parse_web_config(yaml, "test", "/"));
  e.start();
  auto port = static_cast<uint16_t>(e.http().ports().at(0));
  HttpRequestOptions opts;
  opts.tls = true;
  opts.ca_file = tc.cert;
  EXPECT_EQ(http_request("127.0.0.1", port, "/-/healthy", opts).status, 0);
  opts.client_cert_file = tc.cert;  // self-signed: it is its own CA
  opts.client_key_file = tc.key;
  auto ok = http_request("127.0.0.1", port, "/-/healthy", opts);
  EXPECT_EQ(ok.status, 200) << ok.error;
}

TEST(Http, BindFailureNamesTheAddress) {
  Exporter first(loopback_config(), WebConfig{});
  first.start();
  Config c;
  c.web_listen_addresses = {"127.0.0.1:" + std::to_string(first.http().ports().at(0))};
  Exporter second(c, WebConfig{});
  try {
    second.start();
    FAIL() << "binding a used port succeeded";
  } catch (const std::runtime_error& err) {
    EXPECT_NE(std::string(err.what()).find(c.web_listen_addresses[0]), std::string::npos) << err.what();
  }
}

TEST(WebConfig, RejectsBadFilesNamingTheField) {
  struct Case {
    std::string yaml, expected;
  };
  std::vector<Case> cases = {
      {"tls_server_config:\n  cert_file: a\n", "tls_server_config: cert_file and key_file are required"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
       "tls_server_config.client_auth_type: invalid value \"Sometimes\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
       "tls_server_config.client_ca_file: required"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS9\n",
       "tls_server_config.min_version: invalid value \"TLS9\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [X]\n",
       "tls_server_config.cipher_suites: not supported by ringwatch"},
      {"basic_auth_users:\n  bob: plaintext\n", "basic_auth_users.bob: not a bcrypt hash"},
      {"tls_config:\n  cert_file: a\n", "line 1: unknown field \"tls_config\""},
      {"http_server_config:\n  gzip: true\n", "unknown field \"http_server_config.gzip\""},
      {"basic_auth_users: [", "invalid YAML"},
  };
  for (const auto& c : cases) {
    try {
      parse_web_config(c.yaml, "web.yml", "/etc");
      ADD_FAILURE() << "accepted:\n" << c.yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
    }
  }
}

TEST(WebConfig, RelativePathsAreRelativeToTheFile) {
  WebConfig wc = parse_web_config("tls_server_config:\n  cert_file: c.pem\n  key_file: /abs/k.pem\n", "w.yml", "/etc/rw");
  EXPECT_TRUE(wc.tls_enabled);
  EXPECT_EQ(wc.tls.cert_file, "/etc/rw/c.pem");
  EXPECT_EQ(wc.tls.key_file, "/abs/k.pem");
  EXPECT_EQ(wc.tls.min_version, "TLS12");
}
