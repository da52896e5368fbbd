/*
 * gzprintf() and gzvprintf() of libuadk_z: the two variadic entry points of zlib's API,
 * which stable Rust cannot define. The exported symbols are Rust trampolines (src/gz.rs)
 * that jump here with every register and stack argument untouched; these functions format
 * the text and hand it to the Rust writer registered with uadk_z_gzprintf_set_writer()
 * (gzwrite semantics plus zlib's gzprintf error codes). Not exported (hidden visibility).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define Z_STREAM_ERROR (-2)
#define Z_MEM_ERROR (-4)

typedef int (*uadk_z_writer)(void *file, const char *buf, int len);

static uadk_z_writer writer;

__attribute__((visibility("hidden"))) void uadk_z_gzprintf_set_writer(uadk_z_writer w)
{
    __atomic_store_n(&writer, w, __ATOMIC_RELEASE);
}

__attribute__((visibility("hidden"))) int uadk_z_gzvprintf(void *file, const char *format, va_list va)
{
    uadk_z_writer w = __atomic_load_n(&writer, __ATOMIC_ACQUIRE);
    char small[1024];
    va_list copy;
    int len, ret;
    char *big;

    if (file == NULL || format == NULL || w == NULL)
        return Z_STREAM_ERROR;
    va_copy(copy, va);
    len = vsnprintf(small, sizeof small, format, copy);
    va_end(copy);
    if (len < 0)
        return 0; /* an encoding error: nothing written, as zlib reports it */
    if ((size_t)len < sizeof small)
        return w(file, small, len);
    big = malloc((size_t)len + 1);
    if (big == NULL)
        return Z_MEM_ERROR;
    vsnprintf(big, (size_t)len + 1, format, va);
    ret = w(file, big, len);
    free(big);
    return ret;
}

__attribute__((visibility("hidden"))) int uadk_z_gzprintf(void *file, const char *format, ...)
{
    va_list va;
    int ret;

    va_start(va, format);
    ret = uadk_z_gzvprintf(file, format, va);
    va_end(va);
    return ret;
}
