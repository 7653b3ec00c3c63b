// A throw-away PKI for TLS tests, made with the openssl CLI: a CA, a server
// certificate it signed (IP SAN 127.0.0.1 and DNS SAN gossip.ringwatch.test, RSA so
// that ECDHE_RSA suites apply), and an unrelated CA that trusts nothing of it.
#pragma once

#include <string>

namespace ringwatch::testing {

struct TestPki {
  std::string ca_cert;
  std::string cert;
  std::string key;
  std::string other_ca_cert;
  static constexpr const char* kDnsName = "gossip.ringwatch.test";
};

// Writes the files into dir (created). Throws std::runtime_error with openssl's output on failure.
TestPki make_test_pki(const std::string& dir);

}  // namespace ringwatch::testing
