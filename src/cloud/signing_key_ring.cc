#include "cloud/signing_key_ring.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

// Stored value: {"alg","pem","sequence","retired_at"?} with retired_at in Unix seconds.
std::string encode_entry(const SigningKeyRing::Entry& entry) {
  boost::json::object o;
  o["alg"] = jose::algorithm_name(entry.key->alg());
  o["pem"] = entry.key->to_pem();
  o["sequence"] = entry.sequence;
  if (entry.retired_at) o["retired_at"] = absl::ToUnixSeconds(*entry.retired_at);
  return boost::json::serialize(o);
}

absl::StatusOr<SigningKeyRing::Entry> make_entry(jose::SigningKey key, int64_t sequence,
                                                 std::optional<absl::Time> retired_at) {
  WIMS_ASSIGN_OR_RETURN(jose::PublicJwk public_key, jose::PublicJwk::from_json(key.public_jwk()));
  return SigningKeyRing::Entry{std::make_shared<const jose::SigningKey>(std::move(key)),
                               std::move(public_key), sequence, retired_at};
}

absl::StatusOr<SigningKeyRing::Entry> decode_entry(std::string_view kid, std::string_view value) {
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(
        absl::StrCat("signing key ", std::string(kid), " in the state store: ", std::string(why)));
  };
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(value.data(), value.size()), ec);
  if (ec || !doc.is_object()) return corrupt("not a JSON object");
  const boost::json::object& o = doc.get_object();
  absl::StatusOr<std::string> pem = jose::string_claim(o, "pem");
  absl::StatusOr<int64_t> sequence = jose::int64_claim(o, "sequence");
  if (!pem.ok() || !sequence.ok()) return corrupt("missing pem or sequence");
  absl::StatusOr<jose::SigningKey> key = jose::SigningKey::from_pem(*pem);
  if (!key.ok()) return corrupt(std::string(key.status().message()));
  if (key->kid() != kid) return corrupt("kid does not match the key");
  std::optional<absl::Time> retired_at;
  if (o.contains("retired_at")) {
    absl::StatusOr<int64_t> seconds = jose::int64_claim(o, "retired_at");
    if (!seconds.ok()) return corrupt("bad retired_at");
    retired_at = absl::FromUnixSeconds(*seconds);
  }
  return make_entry(*std::move(key), *sequence, retired_at);
}

bool expired(const SigningKeyRing::Entry& entry, absl::Time now, absl::Duration lifetime) {
  return entry.retired_at && *entry.retired_at + lifetime <= now;
}

}  // namespace

jose::JwkSet SigningKeyRing::Snapshot::published(absl::Time now) const {
  jose::JwkSet set;
  for (const Entry& entry : entries) {
    if (!expired(entry, now, max_token_lifetime)) set.add(entry.public_key);
  }
  return set;
}

absl::StatusOr<std::unique_ptr<SigningKeyRing>> SigningKeyRing::open(
    store::StateStore& store, absl::Time now, SigningKeyRingOptions options) {
  std::unique_ptr<SigningKeyRing> ring(new SigningKeyRing(store, options));
  WIMS_ASSIGN_OR_RETURN(auto rows, store.list(kStoreNamespace));
  std::vector<Entry> entries;
  for (const auto& [kid, value] : rows) {
    WIMS_ASSIGN_OR_RETURN(Entry entry, decode_entry(kid, value));
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.sequence > b.sequence; });

  // The newest unretired key is current. Older unretired keys can only come from a crash in the
  // middle of rotate() (the new key is written before the old one is marked retired): retire them
  // now.
  bool have_current = false;
  for (Entry& entry : entries) {
    if (entry.retired_at) continue;
    if (!have_current) {
      have_current = true;
      continue;
    }
    entry.retired_at = now;
    WIMS_RETURN_IF_ERROR(store.put(kStoreNamespace, entry.key->kid(), encode_entry(entry)));
  }
  if (!have_current) {
    WIMS_ASSIGN_OR_RETURN(jose::SigningKey key, jose::SigningKey::generate(options.algorithm));
    int64_t sequence = entries.empty() ? 1 : entries.front().sequence + 1;
    WIMS_ASSIGN_OR_RETURN(Entry entry, make_entry(std::move(key), sequence, std::nullopt));
    WIMS_RETURN_IF_ERROR(store.put(kStoreNamespace, entry.key->kid(), encode_entry(entry)));
    entries.insert(entries.begin(), std::move(entry));
  }
  // Current first, then retired keys newest first; drop those past their window.
  std::stable_partition(entries.begin(), entries.end(),
                        [](const Entry& e) { return !e.retired_at; });
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->max_token_lifetime = options.max_token_lifetime;
  for (Entry& entry : entries) {
    if (expired(entry, now, options.max_token_lifetime)) {
      WIMS_RETURN_IF_ERROR(store.erase(kStoreNamespace, entry.key->kid()));
    } else {
      snapshot->entries.push_back(std::move(entry));
    }
  }
  ring->snapshot_.store(std::move(snapshot));
  return ring;
}

absl::StatusOr<std::string> SigningKeyRing::rotate(absl::Time now) {
  std::lock_guard<std::mutex> lock(rotate_mu_);
  std::shared_ptr<const Snapshot> old = snapshot_.load();
  WIMS_ASSIGN_OR_RETURN(jose::SigningKey key, jose::SigningKey::generate(options_.algorithm));
  int64_t sequence = 0;
  for (const Entry& e : old->entries) sequence = std::max(sequence, e.sequence);
  WIMS_ASSIGN_OR_RETURN(Entry fresh, make_entry(std::move(key), sequence + 1, std::nullopt));
  // New key first: a crash between the two writes leaves two unretired keys, which open() resolves.
  WIMS_RETURN_IF_ERROR(store_.put(kStoreNamespace, fresh.key->kid(), encode_entry(fresh)));

  auto next = std::make_shared<Snapshot>();
  next->max_token_lifetime = options_.max_token_lifetime;
  std::string kid = fresh.key->kid();
  next->entries.push_back(std::move(fresh));
  for (const Entry& e : old->entries) {
    Entry entry = e;
    if (!entry.retired_at) {
      entry.retired_at = now;
      WIMS_RETURN_IF_ERROR(store_.put(kStoreNamespace, entry.key->kid(), encode_entry(entry)));
    }
    if (expired(entry, now, options_.max_token_lifetime)) {
      WIMS_RETURN_IF_ERROR(store_.erase(kStoreNamespace, entry.key->kid()));
      continue;
    }
    next->entries.push_back(std::move(entry));
  }
  snapshot_.store(std::move(next));
  return kid;
}

std::string SigningKeyRing::jwks_json(absl::Time now) const {
  return boost::json::serialize(verification_keys(now).to_json());
}

std::vector<std::string> SigningKeyRing::algorithms(absl::Time now) const {
  std::set<std::string> algs;
  jose::JwkSet keys = verification_keys(now);
  for (const jose::PublicJwk& key : keys.keys()) {
    algs.insert(std::string(jose::algorithm_name(key.algorithm())));
  }
  return {algs.begin(), algs.end()};
}

}  // namespace wims::cloud
