#include "tests/support/tls_certs.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "tests/support/process.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

void openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  Process p(args, dir + "/openssl.log");
  auto status = p.wait(60s);
  if (status != 0) throw std::runtime_error("openssl " + args.at(1) + " failed:\n" + p.output());
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void make_ca(const std::string& dir, const std::string& name) {
  write(dir + "/" + name + ".cnf",
        "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n"
        "[dn]\nCN = ringwatch test " + name + "\n"
        "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier = hash\n");
  openssl(dir, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-config", dir + "/" + name + ".cnf",
                "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt"});
}

}  // namespace

TestPki make_test_pki(const std::string& dir) {
  std::filesystem::create_directories(dir);
  make_ca(dir, "ca");
  make_ca(dir, "other-ca");
  write(dir + "/server.ext", std::string("basicConstraints = CA:FALSE\n"
                                         "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                         "extendedKeyUsage = serverAuth,clientAuth\n"
                                         "subjectAltName = IP:127.0.0.1,DNS:") + TestPki::kDnsName + "\n");
  openssl(dir, {"req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", std::string("/CN=") + TestPki::kDnsName,
                "-keyout", dir + "/server.key", "-out", dir + "/server.csr"});
  openssl(dir, {"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
                "-set_serial", "2", "-days", "2", "-extfile", dir + "/server.ext", "-out", dir + "/server.crt"});
  return TestPki{dir + "/ca.crt", dir + "/server.crt", dir + "/server.key", dir + "/other-ca.crt"};
}

}  // namespace ringwatch::testing
