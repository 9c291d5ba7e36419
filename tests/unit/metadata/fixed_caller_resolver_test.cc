#include "metadata/fixed_caller_resolver.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <set>
#include <string>

namespace wims::metadata {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::make_address;

broker::Caller sidecar_caller() {
  broker::Caller caller;
  caller.pod.namespace_name = "apps";
  caller.pod.name = "web-0";
  caller.aws_role_arn = "arn:aws:iam::111122223333:role/web";
  return caller;
}

// The pod's own addresses, as the injected check sees them.
FixedCallerResolver::LocalAddressCheck pod_addresses(std::set<std::string> addresses) {
  return [addresses = std::move(addresses)](const address& a) {
    return addresses.count(a.to_string()) > 0;
  };
}

TEST(FixedCallerResolverTest, AnswersTheFixedCallerForLoopbackAndThePodsOwnAddresses) {
  FixedCallerResolver resolver(sidecar_caller(), pod_addresses({"10.8.0.7", "fd00:10::7"}));
  for (const char* peer : {"127.0.0.1", "127.0.0.53", "127.255.255.254", "::1", "::ffff:127.0.0.1",
                           "10.8.0.7", "::ffff:10.8.0.7", "fd00:10::7", "FD00:10:0::7"}) {
    SCOPED_TRACE(peer);
    absl::StatusOr<broker::Caller> caller = resolver.resolve(make_address(peer));
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->pod.namespace_name, "apps");
    EXPECT_EQ(caller->pod.name, "web-0");
    EXPECT_EQ(caller->aws_role_arn, "arn:aws:iam::111122223333:role/web");
  }
}

TEST(FixedCallerResolverTest, RefusesEveryOtherPeerWithPermissionDeniedNamingIt) {
  FixedCallerResolver resolver(sidecar_caller(), pod_addresses({"10.8.0.7"}));
  for (const char* peer : {"10.8.0.8", "169.254.169.254", "0.0.0.0", "::", "fd00:10::8",
                           "::ffff:10.8.0.8", "192.0.2.1", "fe80::1"}) {
    SCOPED_TRACE(peer);
    absl::StatusOr<broker::Caller> caller = resolver.resolve(make_address(peer));
    ASSERT_FALSE(caller.ok());
    EXPECT_TRUE(absl::IsPermissionDenied(caller.status())) << caller.status();
    const std::string normalized = normalize_address(make_address(peer)).to_string();
    EXPECT_NE(caller.status().message().find("peer " + normalized), std::string_view::npos)
        << caller.status();
    EXPECT_NE(caller.status().message().find("apps/web-0"), std::string_view::npos)
        << caller.status();
  }
}

TEST(FixedCallerResolverTest, WithoutALocalCheckOnlyLoopbackIsThePod) {
  FixedCallerResolver resolver(sidecar_caller(), nullptr);
  EXPECT_TRUE(resolver.resolve(make_address("127.0.0.1")).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(resolver.resolve(make_address("10.8.0.7")).status()));
}

TEST(FixedCallerResolverTest, ResolveAsyncAnswersLikeResolve) {
  // The front ends call resolve_async; the fixed resolver never waits, so its answers are
  // resolve()'s.
  FixedCallerResolver resolver(sidecar_caller(), pod_addresses({}));
  for (const char* peer : {"127.0.0.1", "10.0.0.1"}) {
    SCOPED_TRACE(peer);
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, resolver.resolve_async(make_address(peer)),
                                        boost::asio::use_future);
    io.run();
    absl::StatusOr<broker::Caller> caller = future.get();
    EXPECT_EQ(caller.ok(), resolver.resolve(make_address(peer)).ok());
    if (caller.ok()) {
      EXPECT_EQ(caller->pod.name, "web-0");
    }
  }
}

TEST(IsLocalInterfaceAddressTest, KnowsLoopbackAndNotADocumentationAddress) {
  // Every network namespace has lo up with 127.0.0.1 (the test runs on a host or in a container).
  EXPECT_TRUE(is_local_interface_address(make_address("127.0.0.1")));
  EXPECT_TRUE(is_local_interface_address(make_address("::ffff:127.0.0.1")));
  EXPECT_FALSE(is_local_interface_address(make_address("192.0.2.1")));  // TEST-NET-1 (RFC 5737)
  EXPECT_FALSE(
      is_local_interface_address(make_address("2001:db8::1")));  // documentation (RFC 3849)
}

}  // namespace
}  // namespace wims::metadata
