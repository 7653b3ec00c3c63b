// The example configuration files in config/ load without error.
#include <gtest/gtest.h>

#include "exporter/config.h"
#include "exporter/web_config.h"

TEST(ConfigExamples, LoadCleanly) {
  const std::string dir = std::string(RINGWATCH_SOURCE_DIR) + "/config/";
  auto cl = ringwatch::parse_command_line({"-config.file", dir + "ringwatch.yaml"});
  EXPECT_EQ(cl.config.memberlist.node_name, "ringwatch");
  EXPECT_EQ(cl.config.memberlist.join_members.size(), 1u);
  auto web = ringwatch::load_web_config(dir + "web-config.yml");
  EXPECT_TRUE(web.tls_enabled);
  EXPECT_EQ(web.basic_auth_users.count("prometheus"), 1u);
}
