// Child processes for tests: spawn with output to a file, signal, wait with a deadline.
// The destructor kills the child's process group, so a failing test leaves no orphans.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ringwatch::testing {

class Process {
 public:
  // Starts argv[0] (a path) with stdout and stderr appended to `output_file`.
  Process(const std::vector<std::string>& argv, const std::string& output_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // The exit status (or 128 + signal) once the child ended, nullopt if still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string output_file_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_tcp_port();

// Polls `condition` every `interval` until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace ringwatch::testing
