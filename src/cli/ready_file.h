// The ready file and the endpoint banner of `wims up`: once every listener is bound, the bound
// addresses and the URL of every service the local cloud offers are written as JSON (for scripts
// and tests) and printed for a person with copy-paste examples. Pure functions; no I/O except
// write_ready_file.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "absl/status/status.h"

namespace wims::cli {

struct BoundAddresses {
  std::string metadata;  // "127.0.0.1:41234"
  std::string cloud;
  std::string admin;
};

struct ReadyInfo {
  BoundAddresses addresses;
  std::string issuer_url;
  std::string admin_token;
  std::string admin_token_file;
  std::string state_dir;
  std::string aws_admin_access_key_id;
  std::string aws_admin_secret_access_key;
};

// {"metadata","cloud","admin","endpoints":{...},"admin_token",...}.
boost::json::object ready_json(const ReadyInfo& info);
// Writes `json` to `path` atomically (temporary file + rename), mode 0600 since it holds the admin
// secrets.
absl::Status write_ready_file(const std::string& path, const boost::json::object& json);
// The human banner: endpoints and how to point each SDK at them.
std::string endpoints_banner(const ReadyInfo& info);

}  // namespace wims::cli
