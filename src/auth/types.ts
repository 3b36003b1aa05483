import {UserProfile} from '@loopback/security';

/** How bearer tokens are verified; bound at `TaskAuthBindings.JWT_CONFIG`. */
export interface JwtVerificationConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** RS256 public key (PEM). Takes precedence over `secret`. */
  publicKey?: string;
  /** When set, the token's `iss` must equal it. */
  issuer?: string;
}

/** The claims the original's tokens carry, as our user profile. */
export interface TaskUserProfile extends UserProfile {
  id: string;
  username?: string;
  userTenantId?: string;
  permissions: string[];
}
