export { isRole, ROLES, type Role } from './roles.js';
export {
  allows,
  type CallerScopes,
  effectiveScope,
  parseCallerScopes,
  type Scope,
  scopeOfClaims,
} from './scopes.js';
export {
  checkLifetime,
  createVerifier,
  existingLocalSecret,
  localSecret,
  mintToken,
  type Principal,
  rolesOf,
  type TokenVerifier,
} from './tokens.js';
