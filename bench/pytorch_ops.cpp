#include "pytorch_ops.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <functional>
#include <string>

#include "common.h"

namespace frb
{
namespace pytorch
{
namespace
{

// Whether op is one of the PReLU rows (any layout).
bool is_prelu(size_t op) { return std::strncmp(frb_op_name(op), "prelu", 5) == 0; }

// The harness's buffers as tensors of PReLU's shape for op: (N, C, inner), or
// (rows, C) channels last; the elementwise ops as one row of n.
struct Tensors {
    at::Tensor x, dy, out, alpha, dalpha;
};

Tensors tensors(frb_data *d, size_t op)
{
    size_t channels, inner;
    auto outer = static_cast<int64_t>(frb_op_shape(d, op, &channels, &inner));
    auto c = static_cast<int64_t>(channels), k = static_cast<int64_t>(inner);
    std::vector<int64_t> shape = {static_cast<int64_t>(d->n)};
    if (is_prelu(op))
        shape = k == 1 ? std::vector<int64_t>{outer, c} : std::vector<int64_t>{outer, c, k};
    auto f32 = at::TensorOptions().dtype(at::kFloat);
    return {at::from_blob(d->x, shape, f32), at::from_blob(d->dy, shape, f32),
            at::from_blob(d->out, shape, f32), at::from_blob(d->alpha, {c}, f32),
            at::from_blob(d->dalpha, {c}, f32)};
}

// One call of op, writing into the harness's out (and dalpha): the _out forms
// of what torch.nn.functional and autograd call. relu is clamp_min(x, 0),
// which at::relu returns (relu_out took 1291 ns at 1Ki here, clamp_min_out 339);
// relu backward is autograd's threshold_backward; clip is hardtanh (relu6),
// whose backward passes dy only strictly inside (lo, hi), as libfastrelu's does.
using Call = std::function<void(Tensors &)>;

struct Match {
    const char *op;
    Call call;
};

const Match matches[] = {
    {"relu_f32", [](Tensors &t) { at::clamp_min_out(t.out, t.x, 0); }},
    {"relu_backward_f32", [](Tensors &t) { at::threshold_backward_out(t.out, t.dy, t.x, 0); }},
    {"leaky_relu_f32", [](Tensors &t) { at::leaky_relu_out(t.out, t.x, FRB_LEAKY_ALPHA); }},
    {"leaky_relu_backward_f32",
     [](Tensors &t) { at::leaky_relu_backward_out(t.out, t.dy, t.x, FRB_LEAKY_ALPHA, false); }},
    {"elu_f32", [](Tensors &t) { at::elu_out(t.out, t.x, FRB_ELU_ALPHA, 1, 1); }},
    {"elu_backward_f32",
     [](Tensors &t) { at::elu_backward_out(t.out, t.dy, FRB_ELU_ALPHA, 1, 1, false, t.x); }},
    {"clip_f32", [](Tensors &t) { at::hardtanh_out(t.out, t.x, FRB_CLIP_LO, FRB_CLIP_HI); }},
    {"clip_backward_f32",
     [](Tensors &t) { at::hardtanh_backward_out(t.out, t.dy, t.x, FRB_CLIP_LO, FRB_CLIP_HI); }},
};

const Call prelu_forward = [](Tensors &t) { at::prelu_out(t.out, t.x, t.alpha); };
const Call prelu_backward = [](Tensors &t) {
    at::prelu_backward_out(t.out, t.dalpha, t.dy, t.x, t.alpha);
};

// Every PReLU layout the bench times has a row here: ATen's prelu takes dim 1 as channels.
const Call *call_of(size_t op)
{
    const char *name = frb_op_name(op);
    if (is_prelu(op))
        return frb_op_is_backward(op) ? &prelu_backward : &prelu_forward;
    for (const Match &m : matches)
        if (std::strcmp(name, m.op) == 0)
            return &m.call;
    return nullptr;
}

// Checked by value, with oneDNN's room (1e-6 absolute for ELU near 0), dalpha within its bound.
const char *check(frb_data *d, size_t op, const Call &call, Tensors &t)
{
    std::memset(d->out, 0xff, d->n * sizeof(float));
    std::memset(d->dalpha, 0xff, FRB_MAX_CHANNELS * sizeof(float));
    call(t);
    bool dalpha = is_prelu(op) && frb_op_is_backward(op);
    return frb_check_foreign(d, op, d->out, dalpha ? d->dalpha : nullptr, 1e-6, 1e-5);
}

void bench(benchmark::State &st, size_t op, size_t n)
{
    frb_data *d = data_for(n);
    if (!d)
        return fail(st, "out of memory");
    const Call &call = *call_of(op);
    Tensors t = tensors(d, op);
    try {
        if (const char *err = check_once("pytorch", op, n, [&] { return check(d, op, call, t); }))
            return fail(st, err);
        double seconds = timed_loop(st, [&call, &t] { call(t); });
        report_rates(st, op, n, seconds);
    } catch (const c10::Error &e) {
        fail(st, e.what_without_backtrace());
    }
}

} // namespace

void setup()
{
    at::set_num_threads(1);
    benchmark::AddCustomContext("pytorch_threads", std::to_string(at::get_num_threads()));
}

void register_benchmark(size_t op, size_t n)
{
    if (call_of(op))
        register_library("pytorch", op, n, bench);
}

} // namespace pytorch
} // namespace frb
