#include "agentapi/events.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::agentapi {
namespace {

TEST(EventHub, NewSubscriberGetsTheReplayThenLiveEvents) {
  EventHub hub(10, 10);
  auto subscriber = hub.subscribe({"a", "b"});
  hub.publish("c");
  auto batch = subscriber->next();
  EXPECT_EQ(batch.messages, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(batch.done);
}

TEST(EventHub, SlowSubscriberIsDisconnectedInsteadOfGrowing) {
  EventHub hub(10, 3);
  auto subscriber = hub.subscribe({});
  for (int i = 0; i < 10; ++i) hub.publish("e");
  auto batch = subscriber->next();
  EXPECT_TRUE(batch.done);
  EXPECT_TRUE(batch.messages.empty());
}

TEST(EventHub, RefusesSubscribersBeyondTheLimitUntilOneLeaves) {
  EventHub hub(1, 10);
  auto first = hub.subscribe({});
  EXPECT_THROW(hub.subscribe({}), Error);
  first.reset();
  EXPECT_NO_THROW(hub.subscribe({}));
}

TEST(Events, MessageUpdateUsesAgentapiFieldNames) {
  Message m{7, Role::agent, "line 1\nline 2", TimePoint{}};
  auto event = message_update_event(m);
  EXPECT_EQ(event.rfind("event: message_update\ndata: {", 0), 0u);
  EXPECT_NE(event.find("\"message\":\"line 1\\nline 2\""), std::string::npos);
  EXPECT_NE(event.find("\"id\":7"), std::string::npos);
  EXPECT_NE(event.find("\"role\":\"agent\""), std::string::npos);
  EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
}

TEST(Events, StatusChangeCarriesTheStatus) {
  EXPECT_NE(status_change_event(Status::stable).find("\"status\":\"stable\""), std::string::npos);
}

}  // namespace
}  // namespace berth::agentapi
