/* version.h - Dala's one version string, printed by `dala-server
 * --version` (and meant for `dala --version` too), so the two programs of
 * a release never disagree. Raise it here, and only here, for a release. */
#ifndef DALA_VERSION_H
#define DALA_VERSION_H

#define DALA_VERSION "0.14.0"

#endif /* DALA_VERSION_H */
