// mute(): fd 2 now writes to /dev/null; returns a duplicate of the old fd 2 to hand to restore().
// restore(fd): fd 2 is the old one again. Anything written meanwhile from native code is dropped.
#include <napi.h>
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>

static Napi::Value Mute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fflush(stderr);
  int saved = dup(2);
  int sink = open("/dev/null", O_WRONLY);
  if (saved < 0 || sink < 0 || dup2(sink, 2) < 0) {
    if (saved >= 0) close(saved);
    if (sink >= 0) close(sink);
    return Napi::Number::New(env, -1);
  }
  close(sink);
  return Napi::Number::New(env, saved);
}

static Napi::Value Restore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int saved = info[0].As<Napi::Number>().Int32Value();
  if (saved < 0) return env.Undefined();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("mute", Napi::Function::New(env, Mute));
  exports.Set("restore", Napi::Function::New(env, Restore));
  return exports;
}

NODE_API_MODULE(stdio, Init)
