export { isRole, ROLES, type Role } from './roles.js';
export {
  createVerifier,
  localSecret,
  mintToken,
  type Principal,
  rolesOf,
  type TokenVerifier,
} from './tokens.js';
