// mvot-devicequery: lists CUDA devices. Exists so the CUDA toolchain path is built in every
// CI run; exits 2 with one line when no device is present.
#include <cstdio>
#include <cuda_runtime.h>

int main()
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        std::fprintf(stderr, "mvot-devicequery: no CUDA device (%s)\n",
                     e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        cudaDeviceProp p;
        cudaGetDeviceProperties(&p, i);
        std::printf("%d: %s, sm_%d%d, %.1f GiB, %d SMs\n", i, p.name, p.major, p.minor,
                    p.totalGlobalMem / 1073741824.0, p.multiProcessorCount);
    }
    return 0;
}
