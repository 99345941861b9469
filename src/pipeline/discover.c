/* discover.c — recursive, sorted, de-duplicated walk of the inputs.
 *
 * Design: one growable array of inputs and one of rejections; a folder is
 * read fully, its names sorted with strcmp, then visited in that order, so
 * the result never depends on readdir's order. De-duplication is by
 * canonical path after the walk (sort a copy of indices, drop repeats,
 * keep the first occurrence). */
#include "discover.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vm_alloc.h"
#include "vm_fs.h"

static const char *const k_exts[] = {"m4a", "mp3", "amr", "3gp", "wav", "flac",
                                     "ogg", "opus", "webm", "mp4", "aac", "3g2",
                                     "oga", "wma", "m4b", NULL};

const char *vm_discover_extensions(void) {
  return "m4a, mp3, amr, 3gp, 3g2, wav, flac, ogg, oga, opus, webm, mp4, aac, "
         "wma, m4b";
}

int vm_discover_is_audio_name(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name) return 0;
  for (int i = 0; k_exts[i]; i++)
    if (!strcasecmp(dot + 1, k_exts[i])) return 1;
  return 0;
}

typedef struct walker {
  vm_discovery *d;
  size_t cap_in, cap_rej;
} walker;

static int add_rejected(walker *w, const char *path, const char *reason) {
  if (w->d->n_rejected == w->cap_rej) {
    size_t nc = w->cap_rej ? w->cap_rej * 2 : 8;
    vm_rejected *nv = vm_realloc(w->d->rejected, nc * sizeof *nv);
    if (!nv) return VM_ENOMEM;
    w->d->rejected = nv;
    w->cap_rej = nc;
  }
  vm_rejected *r = &w->d->rejected[w->d->n_rejected];
  r->path = vm_strdup(path);
  r->reason = vm_strdup(reason);
  if (!r->path || !r->reason) {
    vm_free(r->path);
    vm_free(r->reason);
    return VM_ENOMEM;
  }
  w->d->n_rejected++;
  return VM_OK;
}

static const char *kind_name(mode_t m) {
  if (S_ISDIR(m)) return "a folder";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "not a regular file";
}

static int add_input(walker *w, const char *path, const char *display,
                     const char *root_rel, const struct stat *st) {
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    char msg[256];
    snprintf(msg, sizeof msg, "cannot resolve path: %s", strerror(errno));
    return add_rejected(w, display, msg);
  }
  if (w->d->n_inputs == w->cap_in) {
    size_t nc = w->cap_in ? w->cap_in * 2 : 64;
    vm_input *nv = vm_realloc(w->d->inputs, nc * sizeof *nv);
    if (!nv) return VM_ENOMEM;
    w->d->inputs = nv;
    w->cap_in = nc;
  }
  vm_input *in = &w->d->inputs[w->d->n_inputs];
  in->path = vm_strdup(real);
  in->display = vm_strdup(display);
  in->root_rel = vm_strdup(root_rel);
  in->size_bytes = (int64_t)st->st_size;
  in->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  if (!in->path || !in->display || !in->root_rel) {
    vm_free(in->path);
    vm_free(in->display);
    vm_free(in->root_rel);
    return VM_ENOMEM;
  }
  w->d->n_inputs++;
  return VM_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(walker *w, const char *dir, const char *display,
                    const char *root_rel, int depth);

/* Visits one directory entry found during a walk. */
static int visit_entry(walker *w, const char *path, const char *display,
                       const char *root_rel, const char *name, int depth) {
  struct stat lst, st;
  if (lstat(path, &lst) != 0) return add_rejected(w, display, strerror(errno));
  if (S_ISDIR(lst.st_mode)) return walk_dir(w, path, display, root_rel, depth + 1);
  if (!vm_discover_is_audio_name(name)) return VM_OK;
  if (S_ISLNK(lst.st_mode)) {
    if (stat(path, &st) != 0) return add_rejected(w, display, "broken symbolic link");
    if (S_ISDIR(st.st_mode)) return VM_OK; /* never follow folder links */
  } else {
    st = lst;
  }
  if (!S_ISREG(st.st_mode)) return add_rejected(w, display, kind_name(st.st_mode));
  return add_input(w, path, display, root_rel, &st);
}

static int walk_dir(walker *w, const char *dir, const char *display,
                    const char *root_rel, int depth) {
  int rc = VM_OK;
  char **names = NULL;
  size_t n = 0, cap = 0;
  if (depth > 64) return add_rejected(w, display, "folders nested too deeply");
  DIR *d = opendir(dir);
  if (!d) {
    char msg[256];
    snprintf(msg, sizeof msg, "cannot read folder: %s", strerror(errno));
    return add_rejected(w, display, msg);
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (de->d_name[0] == '.' && !strncmp(de->d_name, VM_FS_TEMP_PREFIX,
                                         strlen(VM_FS_TEMP_PREFIX)))
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      char **nv = vm_realloc(names, nc * sizeof *nv);
      if (!nv) { rc = VM_ENOMEM; goto out; }
      names = nv;
      cap = nc;
    }
    if (!(names[n] = vm_strdup(de->d_name))) { rc = VM_ENOMEM; goto out; }
    n++;
  }
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n && rc == VM_OK; i++) {
    char *p = vm_path_join(dir, names[i]);
    char *disp = vm_path_join(display, names[i]);
    char *rr = vm_path_join(root_rel, names[i]);
    if (!p || !disp || !rr) rc = VM_ENOMEM;
    else rc = visit_entry(w, p, disp, rr, names[i], depth);
    vm_free(p);
    vm_free(disp);
    vm_free(rr);
  }
out:
  for (size_t i = 0; i < n; i++) vm_free(names[i]);
  vm_free(names);
  closedir(d);
  return rc;
}

/* Basename of an argument, ignoring trailing slashes; "." and "/" map to
 * the canonical folder's name. */
static char *arg_basename(const char *arg) {
  char real[PATH_MAX];
  const char *src = arg;
  if (realpath(arg, real)) src = real;
  size_t n = strlen(src);
  while (n > 1 && src[n - 1] == '/') n--;
  const char *s = src + n;
  while (s > src && s[-1] != '/') s--;
  if (s == src + n) return vm_strdup("root");
  return vm_asprintf("%.*s", (int)(src + n - s), s);
}

static int walk_arg(walker *w, const char *arg) {
  struct stat st;
  if (stat(arg, &st) != 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", errno == ENOENT ? "no such file or folder"
                                                    : strerror(errno));
    return add_rejected(w, arg, msg);
  }
  char *base = arg_basename(arg);
  if (!base) return VM_ENOMEM;
  int rc;
  if (S_ISDIR(st.st_mode)) {
    rc = walk_dir(w, arg, arg, base, 0);
  } else if (S_ISREG(st.st_mode)) {
    /* A file named explicitly is taken whatever its extension. */
    rc = add_input(w, arg, arg, base, &st);
  } else {
    rc = add_rejected(w, arg, kind_name(st.st_mode));
  }
  vm_free(base);
  return rc;
}


typedef struct idx_path {
  size_t i;
  const char *path;
} idx_path;

static int cmp_ip(const void *a, const void *b) {
  const idx_path *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  if (c) return c;
  return x->i < y->i ? -1 : x->i > y->i;
}

static int dedupe(vm_discovery *d) {
  if (d->n_inputs < 2) return VM_OK;
  idx_path *v = vm_malloc(d->n_inputs * sizeof *v);
  char *drop = vm_calloc(d->n_inputs, 1);
  if (!v || !drop) {
    vm_free(v);
    vm_free(drop);
    return VM_ENOMEM;
  }
  for (size_t i = 0; i < d->n_inputs; i++) v[i] = (idx_path){i, d->inputs[i].path};
  qsort(v, d->n_inputs, sizeof *v, cmp_ip);
  for (size_t i = 1; i < d->n_inputs; i++)
    if (!strcmp(v[i].path, v[i - 1].path)) drop[v[i].i] = 1;
  size_t o = 0;
  for (size_t i = 0; i < d->n_inputs; i++) {
    if (drop[i]) {
      vm_free(d->inputs[i].path);
      vm_free(d->inputs[i].display);
      vm_free(d->inputs[i].root_rel);
    } else {
      d->inputs[o++] = d->inputs[i];
    }
  }
  d->n_inputs = o;
  vm_free(v);
  vm_free(drop);
  return VM_OK;
}

int vm_discover(const char *const *args, size_t n_args, vm_discovery *out,
                vm_err *err) {
  walker w = {out, 0, 0};
  memset(out, 0, sizeof *out);
  int rc = VM_OK;
  for (size_t i = 0; i < n_args && rc == VM_OK; i++) rc = walk_arg(&w, args[i]);
  if (rc == VM_OK) rc = dedupe(out);
  if (rc != VM_OK) {
    vm_discovery_deinit(out);
    return vm_err_set(err, rc, "out of memory while listing inputs");
  }
  return VM_OK;
}

void vm_discovery_deinit(vm_discovery *d) {
  for (size_t i = 0; i < d->n_inputs; i++) {
    vm_free(d->inputs[i].path);
    vm_free(d->inputs[i].display);
    vm_free(d->inputs[i].root_rel);
  }
  for (size_t i = 0; i < d->n_rejected; i++) {
    vm_free(d->rejected[i].path);
    vm_free(d->rejected[i].reason);
  }
  vm_free(d->inputs);
  vm_free(d->rejected);
  memset(d, 0, sizeof *d);
}
