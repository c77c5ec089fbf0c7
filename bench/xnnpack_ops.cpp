#include "xnnpack_ops.h"

#include <xnnpack.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "common.h"

namespace frb
{
namespace xnnpack
{
namespace
{

bool initialized = false;

// The ops XNNPACK has an operator for, forward only, as it is an inference
// library. Its API has no relu operator: relu is its clamp to [0, +inf).
// Its PReLU is channels last only, so it matches prelu_nhwc and prelu_nhwc4.
enum class Kind { relu, leaky_relu, elu, clip, prelu };

struct Match {
    const char *op;
    Kind kind;
};

const Match matches[] = {
    {"relu_f32", Kind::relu},        {"leaky_relu_f32", Kind::leaky_relu},
    {"elu_f32", Kind::elu},          {"clip_f32", Kind::clip},
    {"prelu_nhwc_f32", Kind::prelu}, {"prelu_nhwc4_f32", Kind::prelu},
};

const Match *match_of(size_t op)
{
    for (const Match &m : matches)
        if (std::strcmp(frb_op_name(op), m.op) == 0)
            return &m;
    return nullptr;
}

struct OperatorDeleter {
    void operator()(xnn_operator *op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// The operator for op over the harness's own buffers, so both libraries see
// the same data; set up once, as a caller with fixed buffers would. No
// threadpool: XNNPACK then runs on the calling thread.
const char *make(Operator &out, const Match &m, size_t op, frb_data *d)
{
    // The elementwise ops as n rows of one channel, PReLU as rows of its channels.
    size_t channels = 1, inner = 1;
    if (m.kind == Kind::prelu)
        frb_op_shape(d, op, &channels, &inner); // channels last: inner is 1
    size_t rows = d->n / channels;
    xnn_operator_t p = nullptr;
    xnn_status s = xnn_status_success;
    switch (m.kind) {
    case Kind::relu:
    case Kind::clip: {
        float hi = m.kind == Kind::relu ? INFINITY : FRB_CLIP_HI;
        s = xnn_create_clamp_nc_f32(channels, channels, channels, FRB_CLIP_LO, hi, 0, &p);
        if (s == xnn_status_success)
            s = xnn_setup_clamp_nc_f32(p, rows, d->x, d->out, nullptr);
        break;
    }
    case Kind::leaky_relu:
        s = xnn_create_leaky_relu_nc_f32(channels, channels, channels, FRB_LEAKY_ALPHA, 0, &p);
        if (s == xnn_status_success)
            s = xnn_setup_leaky_relu_nc_f32(p, rows, d->x, d->out, nullptr);
        break;
    case Kind::elu:
        s = xnn_create_elu_nc_f32(channels, channels, channels, FRB_ELU_ALPHA, 0, &p);
        if (s == xnn_status_success)
            s = xnn_setup_elu_nc_f32(p, rows, d->x, d->out, nullptr);
        break;
    case Kind::prelu:
        s = xnn_create_prelu_nc_f32(channels, channels, channels, d->alpha, 0, &p);
        if (s == xnn_status_success)
            s = xnn_setup_prelu_nc_f32(p, rows, d->x, d->out, nullptr);
        break;
    }
    out.reset(p);
    return s == xnn_status_success ? nullptr : "XNNPACK could not create or set up the operator";
}

// Checked by value, as oneDNN is: XNNPACK's ELU is a polynomial of its own,
// so it gets the same room (1e-6 absolute, for the cancellation near 0).
const char *check(frb_data *d, size_t op, xnn_operator_t p)
{
    std::memset(d->out, 0xff, d->n * sizeof(float));
    if (xnn_run_operator(p, nullptr) != xnn_status_success)
        return "XNNPACK's run failed";
    return frb_check_foreign(d, op, d->out, nullptr, 1e-6, 1e-5);
}

void bench(benchmark::State &st, size_t op, size_t n)
{
    frb_data *d = data_for(n);
    if (!d)
        return fail(st, "out of memory");
    Operator p;
    if (const char *err = make(p, *match_of(op), op, d))
        return fail(st, err);
    if (const char *err = check_once("xnnpack", op, n, [&] { return check(d, op, p.get()); }))
        return fail(st, err);
    xnn_operator_t run = p.get();
    double seconds = timed_loop(st, [run] { xnn_run_operator(run, nullptr); });
    report_rates(st, op, n, seconds);
}

} // namespace

void setup()
{
    initialized = xnn_initialize(nullptr) == xnn_status_success;
    benchmark::AddCustomContext("xnnpack_threads", "1 (no threadpool)");
}

void register_benchmark(size_t op, size_t n)
{
    // xnn_initialize returns xnn_status_unsupported_hardware on CPUs XNNPACK does not support.
    if (initialized && match_of(op))
        register_library("xnnpack", op, n, bench);
}

} // namespace xnnpack
} // namespace frb
