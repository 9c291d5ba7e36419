// StateStore: wims's durable state (signing keys, token-codec secrets, the local cloud's mutable
// resources), a namespaced key/value store in one SQLite database, `<dir>/state.db`, in WAL mode.
//
//   WIMS_ASSIGN_OR_RETURN(std::unique_ptr<store::StateStore> store,
//   store::StateStore::open("/var/lib/wims")); WIMS_RETURN_IF_ERROR(store->put("signing_keys", kid,
//   pem)); WIMS_ASSIGN_OR_RETURN(std::optional<std::string> pem, store->get("signing_keys", kid));
//
// Owned by the CLI wiring and shared by reference. Thread-safe: one connection behind a mutex.
// Every call is blocking disk I/O, so callers run it on a blocking thread pool, never on an I/O
// worker thread.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;

namespace wims::store {

class StateStore {
 public:
  // The schema version this build writes; `open` refuses a database with a newer one.
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if needed) `dir` (mode 0700 when created) and `dir/state.db` (mode 0600).
  static absl::StatusOr<std::unique_ptr<StateStore>> open(const std::string& dir);
  // A private in-memory database, for tests.
  static absl::StatusOr<std::unique_ptr<StateStore>> open_in_memory();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  ~StateStore();

  // Inserts or replaces `key` in namespace `ns`. Values are arbitrary bytes.
  absl::Status put(std::string_view ns, std::string_view key, std::string_view value);
  // The value, or nullopt when absent.
  absl::StatusOr<std::optional<std::string>> get(std::string_view ns, std::string_view key);
  // Every (key, value) of `ns`, ordered by key.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> list(std::string_view ns);
  // Removes `key`; erasing an absent key is OK.
  absl::Status erase(std::string_view ns, std::string_view key);

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  static absl::StatusOr<std::unique_ptr<StateStore>> init(sqlite3* db, bool wal);
  absl::Status exec(const char* sql);

  std::mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::store
