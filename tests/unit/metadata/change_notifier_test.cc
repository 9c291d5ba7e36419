#include "metadata/change_notifier.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

namespace wims::metadata {
namespace {

boost::asio::awaitable<void> wait_into(ChangeNotifier& notifier, uint64_t seen,
                                       std::chrono::steady_clock::duration timeout,
                                       std::optional<absl::Status>& out) {
  out = co_await notifier.wait(seen, timeout);
}

TEST(ChangeNotifierTest, ChangeBeforeTheWaitEndsItAtOnce) {
  ChangeNotifier notifier(4);
  const uint64_t seen = notifier.generation();
  notifier.notify_all();
  boost::asio::io_context io;
  std::optional<absl::Status> result;
  boost::asio::co_spawn(io, wait_into(notifier, seen, std::chrono::hours(1), result),
                        boost::asio::detached);
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(notifier.waiters(), 0u);
}

TEST(ChangeNotifierTest, NotifyFromAnotherThreadWakesTheWaiter) {
  ChangeNotifier notifier(4);
  boost::asio::io_context io;
  std::optional<absl::Status> result;
  boost::asio::co_spawn(io,
                        wait_into(notifier, notifier.generation(), std::chrono::hours(1), result),
                        boost::asio::detached);
  std::thread notifier_thread([&notifier] {
    for (int i = 0; i < 10000 && notifier.waiters() == 0; ++i) std::this_thread::yield();
    notifier.notify_all();
  });
  io.run_for(std::chrono::seconds(60));
  notifier_thread.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(notifier.generation(), 1u);
}

TEST(ChangeNotifierTest, BoundsConcurrentWaitsAndStopReleasesThem) {
  ChangeNotifier notifier(1);
  boost::asio::io_context io;
  std::optional<absl::Status> first, second;
  boost::asio::co_spawn(io, wait_into(notifier, 0, std::chrono::hours(1), first),
                        boost::asio::detached);
  boost::asio::co_spawn(io, wait_into(notifier, 0, std::chrono::hours(1), second),
                        boost::asio::detached);
  io.poll();  // both start: the first registers, the second is refused
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(notifier.waiters(), 1u);
  notifier.stop();
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->ok());
  // After stop() waits return at once.
  std::optional<absl::Status> third;
  boost::asio::io_context io2;
  boost::asio::co_spawn(io2,
                        wait_into(notifier, notifier.generation(), std::chrono::hours(1), third),
                        boost::asio::detached);
  io2.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(third.has_value());
}

TEST(ChangeNotifierTest, DestroyedWaiterDeregisters) {
  ChangeNotifier notifier(4);
  {
    boost::asio::io_context io;
    std::optional<absl::Status> result;
    boost::asio::co_spawn(io, wait_into(notifier, 0, std::chrono::hours(1), result),
                          boost::asio::detached);
    io.poll();
    EXPECT_EQ(notifier.waiters(), 1u);
  }  // the io_context goes away with the coroutine suspended
  EXPECT_EQ(notifier.waiters(), 0u);
  notifier.notify_all();  // must not touch the destroyed executor
}

}  // namespace
}  // namespace wims::metadata
