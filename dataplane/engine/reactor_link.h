// ReactorLink: lets another thread (a password check worker, say) post work to a reactor
// that may be gone by the time the answer comes. The owner of the reactor's services
// detaches the link before the reactor goes away; a post after that is dropped.
#pragma once

#include <functional>
#include <mutex>

#include "dataplane/engine/reactor.h"

namespace postcore::engine {

class ReactorLink {
 public:
  explicit ReactorLink(Reactor& reactor) : reactor_(&reactor) {}

  // Any thread. False when the reactor is gone: `fn` is dropped.
  bool post(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    if (!reactor_) return false;
    reactor_->post(std::move(fn));
    return true;
  }

  // Any thread; waits for a post in progress to finish.
  void detach() {
    std::lock_guard lock(mutex_);
    reactor_ = nullptr;
  }

 private:
  std::mutex mutex_;
  Reactor* reactor_;
};

}  // namespace postcore::engine
