#include "onednn.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <string>
#include <unordered_map>

#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

#include "common.h"

namespace frb
{
namespace onednn
{
namespace
{

using dnnl::algorithm;
using tag = dnnl::memory::format_tag;

// A libfastrelu op and the eltwise algorithm that computes the same thing.
struct Match {
    const char *op;
    algorithm alg;
    float alpha, beta;
};

// clip_v2, not clip: its backward passes dy only strictly inside (lo, hi), as libfastrelu's does.
const Match matches[] = {
    {"relu", algorithm::eltwise_relu, 0.0f, 0.0f},
    {"leaky_relu", algorithm::eltwise_relu, FRB_LEAKY_ALPHA, 0.0f},
    {"elu", algorithm::eltwise_elu, FRB_ELU_ALPHA, 0.0f},
    {"clip", algorithm::eltwise_clip_v2, FRB_CLIP_LO, FRB_CLIP_HI},
};

const Match *match_of(size_t op)
{
    std::string name = frb_op_name(op);
    for (const Match &m : matches) {
        std::string base = m.op;
        if (name == base + "_f32" || name == base + "_backward_f32")
            return &m;
    }
    return nullptr;
}

const dnnl::engine &cpu()
{
    static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

struct Primitive {
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
};

// The primitives work on the harness's own buffers, so both libraries see the same data.
Primitive forward(const Match &m, frb_data *d)
{
    dnnl::memory::desc md({static_cast<dnnl::memory::dim>(d->n)}, dnnl::memory::data_type::f32,
                          tag::a);
    dnnl::eltwise_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, m.alg, md, m.alpha, m.beta}, cpu());
    return {dnnl::eltwise_forward(pd),
            {{DNNL_ARG_SRC, dnnl::memory(md, cpu(), d->x)},
             {DNNL_ARG_DST, dnnl::memory(md, cpu(), d->out)}}};
}

Primitive backward(const Match &m, frb_data *d)
{
    dnnl::memory::desc md({static_cast<dnnl::memory::dim>(d->n)}, dnnl::memory::data_type::f32,
                          tag::a);
    dnnl::eltwise_forward::primitive_desc hint(
        {dnnl::prop_kind::forward_training, m.alg, md, m.alpha, m.beta}, cpu());
    dnnl::eltwise_backward::primitive_desc pd({m.alg, md, md, m.alpha, m.beta}, cpu(), hint);
    return {dnnl::eltwise_backward(pd),
            {{DNNL_ARG_SRC, dnnl::memory(md, cpu(), d->x)},
             {DNNL_ARG_DIFF_DST, dnnl::memory(md, cpu(), d->dy)},
             {DNNL_ARG_DIFF_SRC, dnnl::memory(md, cpu(), d->out)}}};
}

void execute(const Primitive &p, dnnl::stream &s)
{
    p.prim.execute(s, p.args);
    s.wait();
}

// oneDNN gives -0 where libfastrelu gives +0, and forms ELU from exp(x) - 1
// rather than expm1(x), so it is checked by value, with room for that
// cancellation near 0 (1e-6 absolute), not bit for bit.
const char *check(frb_data *d, size_t op, const Primitive &p, dnnl::stream &s)
{
    std::memset(d->out, 0xff, d->n * sizeof(float));
    execute(p, s);
    return frb_check_foreign(d, op, d->out, nullptr, 1e-6, 1e-5);
}

void bench(benchmark::State &st, size_t op, size_t n)
{
    frb_data *d = data_for(n);
    if (!d)
        return fail(st, "out of memory");
    const Match &m = *match_of(op);
    Primitive p;
    try {
        p = frb_op_is_backward(op) ? backward(m, d) : forward(m, d);
    } catch (const dnnl::error &e) {
        return fail(st, e.what());
    }
    dnnl::stream s(cpu());
    if (const char *err = check_once("onednn", op, n, [&] { return check(d, op, p, s); }))
        return fail(st, err);
    double seconds = timed_loop(st, [&p, &s] { execute(p, s); });
    report_rates(st, op, n, seconds);
}

// Returns the thread count oneDNN will use, 0 when this runtime cannot be limited here.
int limit_to_one_thread()
{
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    omp_set_num_threads(1);
    return omp_get_max_threads();
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ
    return 1;
#else
    return 0;
#endif
}

// The kernels oneDNN picked for this CPU: its JIT may use less than the CPU has.
std::string effective_isa()
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
        return "sse41";
    case dnnl_cpu_isa_avx:
        return "avx";
    case dnnl_cpu_isa_avx2:
        return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
        return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
        return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
        return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
        return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
        return "avx512_core_amx";
    default:
        return "other";
    }
}

} // namespace

void setup()
{
    int threads = limit_to_one_thread();
    const dnnl_version_t *v = dnnl_version();
    benchmark::AddCustomContext("onednn_version", std::to_string(v->major) + "." +
                                                      std::to_string(v->minor) + "." +
                                                      std::to_string(v->patch));
    benchmark::AddCustomContext("onednn_threads",
                                threads ? std::to_string(threads) : "runtime default");
    benchmark::AddCustomContext("onednn_cpu_isa", effective_isa());
}

void register_benchmark(size_t op, size_t n)
{
    if (match_of(op))
        register_library("onednn", op, n, bench);
}

} // namespace onednn
} // namespace frb
