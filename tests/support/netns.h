// Network namespaces for fault tests. Every node of a test cluster gets its own namespace whose
// eth0 (a veth) is plugged into one bridge in a hub namespace: a LAN of real addresses on which
// every node can use the standard ports, and whose links a test can cut with iproute2 alone (no
// netem, no firewall). Nothing is added to the namespace the tests run in. Namespaces are named
// rwfault-<pid>-<node>; the destructor deletes them, and the constructor deletes those left behind
// by test processes that no longer exist (a crashed or killed run), with the processes inside.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringwatch::testing {

// Why network namespaces cannot be used here (not root, no `ip`, ...), or "" when they can.
std::string netns_unavailable_reason();

// The command prefix that runs a program inside network namespace `netns`: {"/usr/sbin/ip",
// "netns", "exec", netns}. ip execs the program, so it keeps the caller as its parent.
std::vector<std::string> netns_exec_prefix(const std::string& netns);

// Puts the calling thread into network namespace `netns` until destroyed, so that sockets it
// opens reach services that listen on 127.0.0.1 inside that namespace. "" leaves it where it is.
class NetnsScope {
 public:
  explicit NetnsScope(const std::string& netns);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int original_ = -1;  // the thread's namespace before, to return to
};

class NetnsLan {
 public:
  // Creates the hub namespace with the LAN bridge. Throws std::runtime_error when an `ip` command fails.
  NetnsLan();
  // Deletes every namespace it created. Destroy the processes running inside them first.
  ~NetnsLan();
  NetnsLan(const NetnsLan&) = delete;
  NetnsLan& operator=(const NetnsLan&) = delete;

  // A namespace for node `name`: loopback up, eth0 on the LAN with the next address of
  // 10.77.0.0/24 (from .1). Returns the address.
  std::string add_node(const std::string& name);
  std::string netns(const std::string& name) const;
  std::string address(const std::string& name) const;

  // Splits the LAN: every node of `side_a` gets an unreachable route to every node of `side_b`
  // and back, as if the router between them had lost the link. Connections across fail at once
  // with "no route to host"; each side still reaches itself.
  void partition(const std::vector<std::string>& side_a, const std::vector<std::string>& side_b);
  // Removes every route partition() added.
  void heal();

 private:
  struct Node {
    std::string name;
    std::string netns;
    std::string address;
  };
  const Node& node(const std::string& name) const;

  std::string prefix_;  // rwfault-<pid>-
  std::string hub_;
  std::vector<Node> nodes_;
  std::vector<std::pair<std::string, std::string>> cut_routes_;  // (netns, address)
};

}  // namespace ringwatch::testing
