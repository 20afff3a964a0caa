// The few MPI collectives simclr-compile needs, over Open MPI's libmpi, as a synchronous N-API addon.
// Every call blocks the JavaScript thread until the collective completes: a training step waits on
// its gradients anyway, and a blocking call keeps MPI to the one thread that initialised it
// (MPI_THREAD_SINGLE), which is all Open MPI guarantees without asking for more.
#include <dlfcn.h>
#include <mpi.h>
#include <napi.h>

#include <climits>
#include <cstdlib>
#include <string>

namespace {

int worldRank = 0;
int worldSize = 1;
int nodeRank = 0;

bool Throw(Napi::Env env, const std::string& message) {
  Napi::Error::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool RequireInit(Napi::Env env) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) return true;
  return Throw(env, finalized ? "MPI is finalized" : "MPI is not initialised: call init() first");
}

bool CheckMpi(Napi::Env env, int rc, const char* what) {
  if (rc == MPI_SUCCESS) return true;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  return Throw(env, std::string(what) + " failed: " + std::string(text, length));
}

// MPI counts are C ints; larger tensors would need chunking, which no caller needs yet.
bool FitsCount(Napi::Env env, size_t count) {
  return count <= static_cast<size_t>(INT_MAX) || Throw(env, "MPI message longer than INT_MAX elements");
}

bool GetFloats(Napi::Env env, const Napi::Value& value, const char* name, float** data, size_t* count) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    return Throw(env, std::string(name) + " must be a Float32Array");
  auto array = value.As<Napi::Float32Array>();
  *data = array.Data();
  *count = array.ElementLength();
  return FitsCount(env, *count);
}

// Node loads addons with RTLD_LOCAL, so libmpi's symbols are invisible to the plugins Open MPI
// dlopens during MPI_Init (mca_*.so); builds whose plugins do not name libmpi as a dependency then
// fail on undefined symbols. Debian's 4.1.4 links every plugin against libmpi and starts without
// this (checked); promoting the already loaded libmpi to RTLD_GLOBAL before MPI_Init keeps the
// addon working on builds that do not.
bool PromoteLibmpi(Napi::Env env) {
  const char* name = "libmpi.so.40";
  if (dlopen(name, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) || dlopen(name, RTLD_NOW | RTLD_GLOBAL)) return true;
  const char* why = dlerror();
  return Throw(env, std::string("could not re-open ") + name + " with RTLD_GLOBAL: " + (why ? why : "unknown"));
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return env.Undefined();
  if (!PromoteLibmpi(env)) return env.Undefined();
  if (!CheckMpi(env, MPI_Init(nullptr, nullptr), "MPI_Init")) return env.Undefined();
  MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
  MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
  // The launcher's variable is what mpirun itself used for placement; the shared-memory split is the
  // portable answer when another launcher started the job.
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  if (local) {
    nodeRank = std::atoi(local);
  } else {
    MPI_Comm node;
    if (!CheckMpi(env, MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, worldRank, MPI_INFO_NULL, &node),
                  "MPI_Comm_split_type"))
      return env.Undefined();
    MPI_Comm_rank(node, &nodeRank);
    MPI_Comm_free(&node);
  }
  return env.Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) CheckMpi(info.Env(), MPI_Finalize(), "MPI_Finalize");
  return info.Env().Undefined();
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  if (!RequireInit(info.Env())) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), worldRank);
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  if (!RequireInit(info.Env())) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), worldSize);
}

Napi::Value LocalRank(const Napi::CallbackInfo& info) {
  if (!RequireInit(info.Env())) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), nodeRank);
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (RequireInit(env)) CheckMpi(env, MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  return env.Undefined();
}

// broadcast(view, root): the bytes of any typed array, in place; f32 tensors travel as their bytes.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireInit(env)) return env.Undefined();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    Throw(env, "broadcast(typedArray, root)");
    return env.Undefined();
  }
  auto view = info[0].As<Napi::TypedArray>();
  int root = info[1].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= worldSize) {
    Throw(env, "broadcast root " + std::to_string(root) + " outside 0.." + std::to_string(worldSize - 1));
    return env.Undefined();
  }
  size_t bytes = view.ByteLength();
  if (!FitsCount(env, bytes)) return env.Undefined();
  auto* data = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  CheckMpi(env, MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  return env.Undefined();
}

// allReduceSum(f32): the element-wise sum over every process, written back in place.
Napi::Value AllReduceSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float* data;
  size_t count;
  if (!RequireInit(env) || !GetFloats(env, info[0], "allReduceSum's argument", &data, &count)) return env.Undefined();
  CheckMpi(env, MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
           "MPI_Allreduce");
  return env.Undefined();
}

// allGather(local, out): out = concat of every rank's local, in rank order; out.length = size·local.length.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float *local, *out;
  size_t localCount, outCount;
  if (!RequireInit(env) || !GetFloats(env, info[0], "allGather's input", &local, &localCount) ||
      !GetFloats(env, info[1], "allGather's output", &out, &outCount))
    return env.Undefined();
  if (outCount != localCount * worldSize) {
    Throw(env, "allGather's output must hold size × input elements");
    return env.Undefined();
  }
  CheckMpi(env, MPI_Allgather(local, static_cast<int>(localCount), MPI_FLOAT, out, static_cast<int>(localCount),
                              MPI_FLOAT, MPI_COMM_WORLD),
           "MPI_Allgather");
  return env.Undefined();
}

// reduceScatterSum(full, out): out = rank r's block of the element-wise sum of every rank's full.
Napi::Value ReduceScatterSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float *full, *out;
  size_t fullCount, outCount;
  if (!RequireInit(env) || !GetFloats(env, info[0], "reduceScatterSum's input", &full, &fullCount) ||
      !GetFloats(env, info[1], "reduceScatterSum's output", &out, &outCount))
    return env.Undefined();
  if (fullCount != outCount * worldSize) {
    Throw(env, "reduceScatterSum's input must hold size × output elements");
    return env.Undefined();
  }
  CheckMpi(env, MPI_Reduce_scatter_block(full, out, static_cast<int>(outCount), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
           "MPI_Reduce_scatter_block");
  return env.Undefined();
}

// abort(code): ends every process of the job, this one included; it does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

// Usable before init: doctor reports it without starting MPI.
Napi::Value Version(const Napi::CallbackInfo& info) {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  // Open MPI counts the terminating NUL in `length`; the text itself is NUL-terminated.
  return Napi::String::New(info.Env(), std::string(text));
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("rank", Napi::Function::New(env, Rank));
  exports.Set("size", Napi::Function::New(env, Size));
  exports.Set("localRank", Napi::Function::New(env, LocalRank));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("allReduceSum", Napi::Function::New(env, AllReduceSum));
  exports.Set("allGather", Napi::Function::New(env, AllGather));
  exports.Set("reduceScatterSum", Napi::Function::New(env, ReduceScatterSum));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(mpi, Module)
