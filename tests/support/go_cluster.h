// Runs real Go memberlist nodes (tests/peer, "ringwatch-peer") for cluster tests and
// queries them over their JSON control API. Peers bind kernel-chosen ports on 127.0.0.1
// and report them in a ready file, so there is no free-port race. Every peer runs in its
// own process group, which is killed when its GoPeer is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.h"

namespace ringwatch::testing {

class Process;

// The peer binary: $RINGWATCH_PEER_BIN if set, else <binary_dir>/peer/ringwatch-peer
// (pass the test's RINGWATCH_BINARY_DIR). Throws std::runtime_error if it is not executable.
std::string find_peer_binary(const std::string& binary_dir);

struct GoPeerOptions {
  std::string name;                    // memberlist node name; also the default ring id
  std::string transport = "tcp";       // "tcp" (dskit TCPTransport framing) or "udp"
  std::vector<std::string> join;       // "ip:port"; GoCluster fills in the seed when empty
  std::vector<std::string> rings;      // -ring values, e.g. "key=collectors/ring,id=a,zone=z,tokens=8,period=1s"
  std::string label;                   // cluster label (tcp only)
  bool label_verification_disabled = false;
  std::vector<std::string> encryption_keys;  // base64; first is primary
  std::string tls_cert, tls_key, tls_ca, tls_server_name;
  bool tls_insecure_skip_verify = false;
  // Short timings for tests (dskit defaults are 200ms / 5s / 2s / 30s).
  std::chrono::milliseconds gossip_interval{100};
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds probe_timeout{500};
  std::chrono::milliseconds pullpush_interval{2000};
  std::chrono::milliseconds gossip_to_dead{30000};
  std::chrono::milliseconds send_delay{0};
  std::chrono::milliseconds left_timeout{300000};
  int gossip_nodes = 3;
  int retransmit_mult = 4;
  int suspicion_mult = 4;
  bool compression = true;
  double drop_rate = 0;
  // -drop-packets-to: "ip:port" whose packets (not streams) this peer silently drops.
  std::vector<std::string> drop_packets_to;
  uint16_t gossip_port = 0;  // 0 = kernel-chosen
  // Gossip bind (and advertised) address. Another address than loopback needs a namespace
  // that has it (see netns).
  std::string bind_addr = "127.0.0.1";
  // Network namespace to run in (tests/support/netns.h); "" = the test's. The control API
  // still listens on 127.0.0.1, inside that namespace, where GoPeer's requests go too.
  std::string netns;
  std::vector<std::string> extra_args;
};

struct GoMember {
  std::string name;
  std::string addr;
  uint16_t port = 0;
  std::string state;  // alive | suspect | dead | left
  uint64_t incarnation = 0;
};

struct GoInstance {
  std::string addr;
  int64_t timestamp = 0;
  std::string state;  // ACTIVE | LEAVING | PENDING | JOINING | LEFT
  std::vector<uint32_t> tokens;
  std::string zone;
  int64_t registered_timestamp = 0;
  std::string id;
  int64_t read_only_updated_timestamp = 0;
  bool read_only = false;
  std::map<std::string, uint64_t> versions;
  bool operator==(const GoInstance&) const = default;
};

using GoRing = std::map<std::string, GoInstance>;  // instance id -> instance

struct GoKvEntry {
  std::string codec;
  bool deleted = false;
  int64_t update_time_millis = 0;
  uint64_t version = 0;  // local to the node
  GoRing instances;      // including LEFT tombstones
};

class GoPeer {
 public:
  GoPeer(std::string binary, GoPeerOptions options, std::string log_dir);
  ~GoPeer();  // kills the process group if still running
  GoPeer(const GoPeer&) = delete;
  GoPeer& operator=(const GoPeer&) = delete;

  // Spawns the peer and waits until its control API answers. Throws on failure.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  bool running();
  void sigterm();  // graceful: LEFT tombstones, leave, exit 0
  void sigkill();
  // Exit status once the process ended (128 + signal when killed), nullopt at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  const std::string& name() const { return options_.name; }
  const GoPeerOptions& options() const { return options_; }
  uint16_t gossip_port() const { return gossip_port_; }
  uint16_t http_port() const { return http_port_; }
  std::string gossip_address() const;  // "<bind_addr>:<port>"
  std::string log_path() const { return log_path_; }
  std::string log() const;

  // Control API. nullopt when the peer does not answer (e.g. killed).
  std::optional<std::vector<GoMember>> members();
  std::optional<std::map<std::string, GoKvEntry>> kv();
  std::optional<GoRing> ring(const std::string& key);  // without LEFT tombstones
  std::optional<nlohmann::json> stats();
  bool healthy();
  HttpResponse get(const std::string& path);
  HttpResponse post(const std::string& path, const std::string& body = "");

 private:
  std::string binary_;
  GoPeerOptions options_;
  std::string log_path_;
  std::string ready_path_;
  std::unique_ptr<Process> process_;
  uint16_t gossip_port_ = 0;
  uint16_t http_port_ = 0;
};

class GoCluster {
 public:
  GoCluster(std::string binary, std::string log_dir);

  // Starts a peer; peers after the first join the first one unless options.join is set.
  GoPeer& add(GoPeerOptions options);
  // Starts n peers named "<prefix>-<i>", options from make(i) (name filled in when empty).
  void start(size_t n, const std::function<GoPeerOptions(size_t)>& make, const std::string& prefix = "peer");

  size_t size() const { return peers_.size(); }
  GoPeer& operator[](size_t i) { return *peers_.at(i); }
  GoPeer& peer(const std::string& name);
  const std::string& log_dir() const { return log_dir_; }

  // Polls predicate until it holds or the timeout passes (no fixed sleeps in tests).
  static bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds interval = std::chrono::milliseconds(50));
  // True once every listed peer sees exactly the listed peers, all alive.
  bool wait_members_alive(const std::vector<size_t>& peers, std::chrono::milliseconds timeout);
  // Every log's path and last lines, for failure messages.
  std::string logs_tail(size_t lines = 30) const;

 private:
  std::string binary_;
  std::string log_dir_;
  std::vector<std::unique_ptr<GoPeer>> peers_;
};

// State of member `name` as seen by `observer`, or "" if unknown / unreachable.
std::string member_state(GoPeer& observer, const std::string& name);

}  // namespace ringwatch::testing
