#include "tests/support/go_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/netns.h"
#include "tests/support/process.h"

namespace ringwatch::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string find_peer_binary(const std::string& binary_dir) {
  std::string path;
  if (const char* env = std::getenv("RINGWATCH_PEER_BIN"); env && *env) {
    path = env;
  } else {
    path = binary_dir + "/peer/ringwatch-peer";
  }
  if (access(path.c_str(), X_OK) != 0) {
    throw std::runtime_error("Go test peer not found at " + path +
                             " (build it with scripts/build-peer.sh <build>/peer or set RINGWATCH_PEER_BIN)");
  }
  return path;
}

namespace {

std::string ms_arg(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

std::vector<std::string> peer_args(const std::string& binary, const GoPeerOptions& o, const std::string& ready) {
  std::vector<std::string> a = {binary,
                                "-name=" + o.name,
                                "-transport=" + o.transport,
                                "-bind-addr=" + o.bind_addr,
                                "-bind-port=" + std::to_string(o.gossip_port),
                                "-http=127.0.0.1:0",
                                "-ready-file=" + ready,
                                "-exit-with-parent",
                                "-gossip-interval=" + ms_arg(o.gossip_interval),
                                "-probe-interval=" + ms_arg(o.probe_interval),
                                "-probe-timeout=" + ms_arg(o.probe_timeout),
                                "-pullpush-interval=" + ms_arg(o.pullpush_interval),
                                "-gossip-to-dead=" + ms_arg(o.gossip_to_dead),
                                "-send-delay=" + ms_arg(o.send_delay),
                                "-left-timeout=" + ms_arg(o.left_timeout),
                                "-gossip-nodes=" + std::to_string(o.gossip_nodes),
                                "-retransmit-mult=" + std::to_string(o.retransmit_mult),
                                "-suspicion-mult=" + std::to_string(o.suspicion_mult),
                                std::string("-compression=") + (o.compression ? "true" : "false"),
                                "-drop-rate=" + std::to_string(o.drop_rate)};
  for (const auto& j : o.join) a.push_back("-join=" + j);
  for (const auto& r : o.rings) a.push_back("-ring=" + r);
  for (const auto& d : o.drop_packets_to) a.push_back("-drop-packets-to=" + d);
  if (!o.label.empty()) a.push_back("-label=" + o.label);
  if (o.label_verification_disabled) a.push_back("-label-verification-disabled");
  for (const auto& k : o.encryption_keys) a.push_back("-encryption-key=" + k);
  if (!o.tls_cert.empty()) a.push_back("-tls-cert=" + o.tls_cert);
  if (!o.tls_key.empty()) a.push_back("-tls-key=" + o.tls_key);
  if (!o.tls_ca.empty()) a.push_back("-tls-ca=" + o.tls_ca);
  if (!o.tls_server_name.empty()) a.push_back("-tls-server-name=" + o.tls_server_name);
  if (o.tls_insecure_skip_verify) a.push_back("-tls-insecure-skip-verify");
  a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
  if (!o.netns.empty()) {
    auto in_netns = netns_exec_prefix(o.netns);
    a.insert(a.begin(), in_netns.begin(), in_netns.end());
  }
  return a;
}

std::optional<nlohmann::json> parse_json(const HttpResponse& r) {
  if (r.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

GoInstance instance_from_json(const std::string& id, const nlohmann::json& j) {
  GoInstance i;
  i.id = j.value("id", id);
  i.addr = j.value("addr", "");
  i.timestamp = j.value("timestamp", int64_t{0});
  i.state = j.value("state", "");
  i.tokens = j.value("tokens", std::vector<uint32_t>{});
  i.zone = j.value("zone", "");
  i.registered_timestamp = j.value("registered_timestamp", int64_t{0});
  i.read_only_updated_timestamp = j.value("read_only_updated_timestamp", int64_t{0});
  i.read_only = j.value("read_only", false);
  i.versions = j.value("versions", std::map<std::string, uint64_t>{});
  return i;
}

GoRing ring_from_json(const nlohmann::json& instances) {
  GoRing ring;
  for (const auto& [id, inst] : instances.items()) ring[id] = instance_from_json(id, inst);
  return ring;
}

}  // namespace

GoPeer::GoPeer(std::string binary, GoPeerOptions options, std::string log_dir)
    : binary_(std::move(binary)), options_(std::move(options)) {
  if (options_.name.empty()) throw std::invalid_argument("GoPeer needs a name");
  fs::create_directories(log_dir);
  log_path_ = log_dir + "/" + options_.name + ".log";
  ready_path_ = log_dir + "/" + options_.name + ".ready.json";
}

GoPeer::~GoPeer() = default;  // Process's destructor kills the process group

void GoPeer::start(std::chrono::milliseconds timeout) {
  if (process_ && running()) throw std::logic_error("peer " + options_.name + " already running");
  fs::remove(ready_path_);
  {
    std::ofstream(log_path_, std::ios::app) << "---- ringwatch-peer " << options_.name << " starting\n";
  }
  process_ = std::make_unique<Process>(peer_args(binary_, options_, ready_path_), log_path_);
  nlohmann::json ready;
  bool ok = ringwatch::testing::wait_until(
      [&] {
        if (process_->wait(0ms)) return true;  // exited: stop waiting, report below
        std::ifstream in(ready_path_);
        if (!in) return false;
        ready = nlohmann::json::parse(in, nullptr, false);
        return !ready.is_discarded();
      },
      timeout, 20ms);
  if (!ok || ready.is_discarded() || ready.is_null()) {
    throw std::runtime_error("peer " + options_.name + " did not start; log " + log_path_ + ":\n" + log());
  }
  gossip_port_ = ready.at("gossip_port").get<uint16_t>();
  http_port_ = ready.at("http_port").get<uint16_t>();
  if (!ringwatch::testing::wait_until([&] { return healthy(); }, timeout, 20ms)) {
    throw std::runtime_error("peer " + options_.name + " API not answering; log:\n" + log());
  }
}

bool GoPeer::running() { return process_ && !process_->wait(0ms).has_value(); }

void GoPeer::sigterm() {
  if (process_) process_->signal(SIGTERM);
}

void GoPeer::sigkill() {
  if (process_) {
    process_->signal(SIGKILL);
    process_->wait(5s);
  }
}

std::optional<int> GoPeer::wait_exit(std::chrono::milliseconds timeout) {
  if (!process_) return std::nullopt;
  return process_->wait(timeout);
}

std::string GoPeer::gossip_address() const { return options_.bind_addr + ":" + std::to_string(gossip_port_); }

std::string GoPeer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResponse GoPeer::get(const std::string& path) {
  HttpRequestOptions o;
  o.timeout = 3s;
  NetnsScope in_peer_namespace(options_.netns);
  return http_request("127.0.0.1", http_port_, path, o);
}

HttpResponse GoPeer::post(const std::string& path, const std::string& body) {
  HttpRequestOptions o;
  o.method = "POST";
  o.body = body;
  o.timeout = 3s;
  NetnsScope in_peer_namespace(options_.netns);
  return http_request("127.0.0.1", http_port_, path, o);
}

bool GoPeer::healthy() { return http_port_ != 0 && get("/healthy").status == 200; }

std::optional<std::vector<GoMember>> GoPeer::members() {
  auto j = parse_json(get("/members"));
  if (!j) return std::nullopt;
  std::vector<GoMember> out;
  for (const auto& m : j->at("members")) {
    out.push_back(GoMember{m.value("name", ""), m.value("addr", ""), m.value("port", uint16_t{0}),
                           m.value("state", ""), m.value("incarnation", uint64_t{0})});
  }
  return out;
}

std::optional<std::map<std::string, GoKvEntry>> GoPeer::kv() {
  auto j = parse_json(get("/kv"));
  if (!j) return std::nullopt;
  std::map<std::string, GoKvEntry> out;
  for (const auto& [key, e] : j->at("keys").items()) {
    GoKvEntry entry;
    entry.codec = e.value("codec", "");
    entry.deleted = e.value("deleted", false);
    entry.update_time_millis = e.value("update_time_millis", int64_t{0});
    entry.version = e.value("version", uint64_t{0});
    entry.instances = ring_from_json(e.at("instances"));
    out[key] = std::move(entry);
  }
  return out;
}

std::optional<GoRing> GoPeer::ring(const std::string& key) {
  auto j = parse_json(get("/ring?key=" + key));
  if (!j) return std::nullopt;
  return ring_from_json(j->at("instances"));
}

std::optional<nlohmann::json> GoPeer::stats() { return parse_json(get("/stats")); }

GoCluster::GoCluster(std::string binary, std::string log_dir) : binary_(std::move(binary)), log_dir_(std::move(log_dir)) {
  fs::create_directories(log_dir_);
}

GoPeer& GoCluster::add(GoPeerOptions options) {
  if (options.join.empty() && !peers_.empty()) options.join.push_back(peers_.front()->gossip_address());
  peers_.push_back(std::make_unique<GoPeer>(binary_, std::move(options), log_dir_));
  peers_.back()->start();
  return *peers_.back();
}

void GoCluster::start(size_t n, const std::function<GoPeerOptions(size_t)>& make, const std::string& prefix) {
  for (size_t i = 0; i < n; ++i) {
    GoPeerOptions o = make(i);
    if (o.name.empty()) o.name = prefix + "-" + std::to_string(i);
    add(std::move(o));
  }
}

GoPeer& GoCluster::peer(const std::string& name) {
  for (auto& p : peers_) {
    if (p->name() == name) return *p;
  }
  throw std::out_of_range("no peer " + name);
}

bool GoCluster::wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds interval) {
  return ringwatch::testing::wait_until(predicate, timeout, interval);
}

bool GoCluster::wait_members_alive(const std::vector<size_t>& idx, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        for (size_t i : idx) {
          auto m = peers_.at(i)->members();
          if (!m) return false;
          size_t alive = 0;
          for (size_t j : idx) {
            for (const auto& member : *m) {
              if (member.name == peers_.at(j)->name() && member.state == "alive") ++alive;
            }
          }
          if (alive != idx.size()) return false;
        }
        return true;
      },
      timeout);
}

std::string GoCluster::logs_tail(size_t lines) const {
  std::ostringstream out;
  for (const auto& p : peers_) {
    std::istringstream in(p->log());
    std::deque<std::string> tail;
    for (std::string line; std::getline(in, line);) {
      tail.push_back(line);
      if (tail.size() > lines) tail.pop_front();
    }
    out << "==== " << p->log_path() << "\n";
    for (const auto& l : tail) out << l << "\n";
  }
  return out.str();
}

std::string member_state(GoPeer& observer, const std::string& name) {
  auto m = observer.members();
  if (!m) return "";
  for (const auto& member : *m) {
    if (member.name == name) return member.state;
  }
  return "";
}

}  // namespace ringwatch::testing
