#include "tests/support/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ringwatch::testing {
namespace {

const std::string kNamePrefix = "rwfault-";
const std::string kSubnet = "10.77.0.";
const std::string kBridge = "lan";

std::string ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

struct CommandResult {
  int status = -1;  // exit status, or -1 when it could not run
  std::string output;
};

// Runs `ip args...` and collects its stdout and stderr.
CommandResult run_ip(const std::vector<std::string>& args) {
  CommandResult result;
  const std::string ip = ip_binary();
  if (ip.empty()) {
    result.output = "ip (iproute2) not found";
    return result;
  }
  std::vector<std::string> argv = {ip};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  close(out[1]);
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);) {
    if (n > 0) result.output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int st = 0;
  if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) result.status = WEXITSTATUS(st);
  return result;
}

std::string describe(const std::vector<std::string>& args) {
  std::string s = "ip";
  for (const auto& a : args) s += " " + a;
  return s;
}

void must_ip(const std::vector<std::string>& args) {
  auto r = run_ip(args);
  if (r.status != 0) throw std::runtime_error(describe(args) + " failed: " + r.output);
}

// Names of existing network namespaces (`ip netns list` prints "name" or "name (id: N)").
std::vector<std::string> list_namespaces() {
  std::vector<std::string> names;
  std::istringstream in(run_ip({"netns", "list"}).output);
  for (std::string line; std::getline(in, line);) {
    const std::string name = line.substr(0, line.find(' '));
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// Kills what still runs in `netns` (processes of a crashed test run), then deletes it.
void delete_namespace(const std::string& netns) {
  std::istringstream pids(run_ip({"netns", "pids", netns}).output);
  for (pid_t pid; pids >> pid;) kill(pid, SIGKILL);
  run_ip({"netns", "del", netns});
}

// Whether process `pid` runs; a zombie (dead, not yet reaped by its parent) does not.
bool process_runs(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("State:", 0) == 0) return line.find('Z') == std::string::npos;
  }
  return false;
}

// Removes namespaces of earlier test processes that no longer run.
void remove_stale_namespaces() {
  for (const auto& name : list_namespaces()) {
    if (name.rfind(kNamePrefix, 0) != 0) continue;
    const std::string rest = name.substr(kNamePrefix.size());
    const pid_t owner = static_cast<pid_t>(std::strtol(rest.c_str(), nullptr, 10));
    if (owner > 0 && owner != getpid() && !process_runs(owner)) delete_namespace(name);
  }
}

}  // namespace

std::string netns_unavailable_reason() {
  if (geteuid() != 0) return "network namespaces need root (ip netns add)";
  if (ip_binary().empty()) return "ip (iproute2) not found";
  const std::string probe = kNamePrefix + std::to_string(getpid()) + "-probe";
  auto added = run_ip({"netns", "add", probe});
  if (added.status != 0) return "ip netns add failed: " + added.output;
  auto veth = run_ip({"-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"});
  run_ip({"netns", "del", probe});
  if (veth.status != 0) return "cannot create veth pairs: " + veth.output;
  return "";
}

std::vector<std::string> netns_exec_prefix(const std::string& netns) { return {ip_binary(), "netns", "exec", netns}; }

NetnsScope::NetnsScope(const std::string& netns) {
  if (netns.empty()) return;
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  const bool entered = original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
  const int error = errno;
  if (target >= 0) close(target);
  if (!entered) {
    if (original_ >= 0) close(original_);
    throw std::runtime_error("cannot enter network namespace " + netns + ": " + strerror(error));
  }
}

NetnsScope::~NetnsScope() {
  if (original_ < 0) return;
  // Staying in the test's namespace would misdirect every later socket of this thread.
  if (setns(original_, CLONE_NEWNET) != 0) std::abort();
  close(original_);
}

NetnsLan::NetnsLan() : prefix_(kNamePrefix + std::to_string(getpid()) + "-"), hub_(prefix_ + "hub") {
  remove_stale_namespaces();
  for (const auto& name : list_namespaces()) {
    if (name.rfind(prefix_, 0) == 0) delete_namespace(name);  // an earlier NetnsLan of this process
  }
  must_ip({"netns", "add", hub_});
  try {
    must_ip({"-n", hub_, "link", "add", kBridge, "type", "bridge"});
    must_ip({"-n", hub_, "link", "set", kBridge, "up"});
  } catch (...) {
    delete_namespace(hub_);  // no destructor runs for a constructor that throws
    throw;
  }
}

NetnsLan::~NetnsLan() {
  for (const auto& n : nodes_) delete_namespace(n.netns);
  delete_namespace(hub_);
}

std::string NetnsLan::add_node(const std::string& name) {
  if (nodes_.size() >= 250) throw std::length_error("NetnsLan: subnet full");
  for (const auto& n : nodes_) {
    if (n.name == name) throw std::invalid_argument("NetnsLan: node " + name + " exists");
  }
  const size_t index = nodes_.size();
  Node n{name, prefix_ + name, kSubnet + std::to_string(index + 1)};
  const std::string port = "port" + std::to_string(index);  // the veth's end in the hub
  must_ip({"netns", "add", n.netns});
  nodes_.push_back(n);  // from here on, the destructor removes it
  must_ip({"-n", hub_, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", n.netns});
  must_ip({"-n", hub_, "link", "set", port, "master", kBridge});
  must_ip({"-n", hub_, "link", "set", port, "up"});
  must_ip({"-n", n.netns, "link", "set", "lo", "up"});
  must_ip({"-n", n.netns, "addr", "add", n.address + "/24", "dev", "eth0"});
  must_ip({"-n", n.netns, "link", "set", "eth0", "up"});
  return n.address;
}

const NetnsLan::Node& NetnsLan::node(const std::string& name) const {
  for (const auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::out_of_range("NetnsLan: no node " + name);
}

std::string NetnsLan::netns(const std::string& name) const { return node(name).netns; }
std::string NetnsLan::address(const std::string& name) const { return node(name).address; }

void NetnsLan::partition(const std::vector<std::string>& side_a, const std::vector<std::string>& side_b) {
  auto cut = [&](const std::vector<std::string>& from, const std::vector<std::string>& to) {
    for (const auto& f : from) {
      for (const auto& t : to) {
        const Node& src = node(f);
        const Node& dst = node(t);
        must_ip({"-n", src.netns, "route", "add", "unreachable", dst.address + "/32"});
        cut_routes_.emplace_back(src.netns, dst.address);
      }
    }
  };
  cut(side_a, side_b);
  cut(side_b, side_a);
}

void NetnsLan::heal() {
  for (const auto& [netns, address] : cut_routes_) {
    must_ip({"-n", netns, "route", "del", "unreachable", address + "/32"});
  }
  cut_routes_.clear();
}

}  // namespace ringwatch::testing
