#include "exporter/duration.h"

#include <gtest/gtest.h>

#include <vector>

using namespace std::chrono_literals;
using ringwatch::format_go_duration;
using ringwatch::parse_go_duration;

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(parse_go_duration("200ms"), 200ms);
  EXPECT_EQ(parse_go_duration("1m30s"), 90s);
  EXPECT_EQ(parse_go_duration("1.5h"), 90min);
  EXPECT_EQ(parse_go_duration("0"), 0s);
  EXPECT_EQ(parse_go_duration("-2s"), -2s);
  EXPECT_EQ(parse_go_duration("+3s"), 3s);
  EXPECT_EQ(parse_go_duration("1h2m3.5s"), 1h + 2min + 3500ms);
  EXPECT_EQ(parse_go_duration("10us"), 10us);
  EXPECT_EQ(parse_go_duration("10\xC2\xB5s"), 10us);
  EXPECT_EQ(parse_go_duration("7ns"), 7ns);
  EXPECT_EQ(parse_go_duration(".5s"), 500ms);
  EXPECT_EQ(parse_go_duration("1.s"), 1s);
}

TEST(GoDuration, RejectsWhatGoRejects) {
  for (const char* bad : {"", "s", "1", "10", "1d", "abc", "1.2.3s", "ms", "-", ".s", "1 s", "5sec"}) {
    EXPECT_FALSE(parse_go_duration(bad).has_value()) << bad;
  }
}

TEST(GoDuration, FormatsAsGo) {
  EXPECT_EQ(format_go_duration(0s), "0s");
  EXPECT_EQ(format_go_duration(200ms), "200ms");
  EXPECT_EQ(format_go_duration(1500us), "1.5ms");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(5min), "5m0s");
  EXPECT_EQ(format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(format_go_duration(2500ms), "2.5s");
  EXPECT_EQ(format_go_duration(-2s), "-2s");
  EXPECT_EQ(format_go_duration(12ns), "12ns");
}

TEST(GoDuration, FormatThenParseRoundTrips) {
  for (ringwatch::Duration d : std::vector<ringwatch::Duration>{1ns, 999ns, 1us, 1234567ns, 59s, 61s, 3601s, 25h + 1ms}) {
    EXPECT_EQ(parse_go_duration(format_go_duration(d)), d) << format_go_duration(d);
  }
}
