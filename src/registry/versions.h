/*
 * versions.h — projects and the semantic versions of their models (versions.c).
 */
#ifndef GALAXY_VERSIONS_H
#define GALAXY_VERSIONS_H

#include "algo/algo.h"

/* ERROR 22023 unless name is a valid project name. */
extern void registry_check_project_name(const char *name);
/* Find a project by name (0 if absent). */
extern int64 registry_project_id(const char *name, bool missing_ok);
/* Find or create a project; checks a known task matches. */
extern int64 registry_project_ensure(const char *name, GalaxyTask task);

/*
 * Assign the next semantic version of a project for a model with the given
 * schema fingerprint: 1.0.0 first; minor bump for the same schema; major bump
 * when the schema changes.  Locks the project row until commit so concurrent
 * registrations cannot collide.  *parent_id = the latest model (0 if none).
 */
extern void registry_next_version(int64 project_id, const char *schema_fingerprint,
								  int *major, int *minor, int *patch, int64 *parent_id);

/*
 * The next patch version of a model (galaxy.compress): 1.4.0 → 1.4.1, or
 * after the highest patch of 1.4 registered so far.  Locks the project row
 * until commit, as registry_next_version does.
 */
extern void registry_next_patch(int64 project_id, int64 model_id, int *major, int *minor, int *patch);

/* The galaxy.models row of a model, as a composite Datum. */
extern Datum registry_model_row(int64 model_id);

/* The same, given the value its model column holds (not read back from TOAST). */
extern Datum registry_model_row_with(int64 model_id, struct varlena *model);

#endif							/* GALAXY_VERSIONS_H */
