import {AuthenticationStrategy} from '@loopback/authentication';
import {inject, injectable, Provider} from '@loopback/core';
import {HttpErrors, Request} from '@loopback/rest';
import {securityId} from '@loopback/security';
import {createPublicKey, createSecretKey, KeyObject} from 'crypto';
import jwt, {Algorithm, JwtPayload} from 'jsonwebtoken';
import {TaskAuthBindings} from './keys';
import {JwtVerificationConfig, TaskUserProfile} from './types';
import {limitFailures, RateLimit} from '../security/rate-limit';
import {TaskSecurityBindings} from '../security/keys';

export const JWT_STRATEGY_NAME = 'bearer';

/** Reads the verification config from `JWT_SECRET`, `JWT_PUBLIC_KEY`, `JWT_ISSUER`. */
export class JwtConfigFromEnvProvider implements Provider<JwtVerificationConfig> {
  value(): JwtVerificationConfig {
    return {
      secret: process.env.JWT_SECRET,
      publicKey: process.env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      issuer: process.env.JWT_ISSUER,
    };
  }
}

@injectable({tags: {namespace: 'authentication.strategies'}})
export class BearerJwtStrategy implements AuthenticationStrategy {
  readonly name = JWT_STRATEGY_NAME;

  constructor(
    @inject(TaskAuthBindings.JWT_CONFIG)
    private readonly config: JwtVerificationConfig,
    @inject(TaskSecurityBindings.AUTH_FAILURE_LIMIT, {optional: true})
    readonly failures?: RateLimit,
  ) {}

  /** 429 for an address that failed too often; each failure counts. */
  authenticate(request: Request): Promise<TaskUserProfile> {
    return limitFailures(this.failures, request, () =>
      this.verifyRequest(request),
    );
  }

  /**
   * The user of a request's bearer token; 401 when there is none or it is
   * invalid. Counts nothing (`authenticate` counts failures).
   */
  async verifyRequest(request: Request): Promise<TaskUserProfile> {
    const token = this.extractToken(request);
    const claims = this.verify(token);
    const id = String(claims.id ?? claims.sub ?? '');
    if (!id) {
      throw new HttpErrors.Unauthorized(
        'Token carries no user id (id or sub).',
      );
    }
    const permissions = Array.isArray(claims.permissions)
      ? claims.permissions.map(String)
      : [];
    return {
      [securityId]: id,
      id,
      username: claims.username as string | undefined,
      userTenantId: claims.userTenantId as string | undefined,
      permissions,
    };
  }

  private extractToken(request: Request): string {
    const header = request.headers.authorization;
    if (!header) {
      throw new HttpErrors.Unauthorized('Authorization header not found.');
    }
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      throw new HttpErrors.Unauthorized(
        "Authorization header is not of the form 'Bearer <token>'.",
      );
    }
    return token;
  }

  /** The key object of the material last used, looked up only when it changes. */
  private lastKey?: {material: string; asymmetric: boolean; key: KeyObject};

  private keyFor(material: string, asymmetric: boolean): KeyObject {
    const last = this.lastKey;
    if (last?.material === material && last.asymmetric === asymmetric) {
      return last.key;
    }
    const key = verificationKey(material, asymmetric);
    this.lastKey = {material, asymmetric, key};
    return key;
  }

  private verify(token: string): JwtPayload {
    const {publicKey, secret, issuer} = this.config;
    const material = publicKey ?? secret;
    if (!material) {
      throw new HttpErrors.Unauthorized(
        'Token verification is not configured (JWT_SECRET or JWT_PUBLIC_KEY).',
      );
    }
    const algorithms: Algorithm[] = publicKey ? ['RS256'] : ['HS256'];
    try {
      const key = this.keyFor(material, publicKey !== undefined);
      const known = stillValid(key, token, issuer);
      if (known) return known;
      const payload = jwt.verify(token, key, {
        algorithms,
        issuer: issuer ? issuer : undefined,
      });
      if (typeof payload === 'string') {
        throw new Error('payload is not a JSON object');
      }
      if (typeof payload.exp !== 'number') {
        throw new Error('the token has no expiry (exp)');
      }
      remember(key, token, issuer, payload);
      return payload;
    } catch (err) {
      throw new HttpErrors.Unauthorized(
        `Invalid token: ${(err as Error).message}`,
      );
    }
  }
}

/** Key objects by their material; a deployment configures one or two. */
const verificationKeys = new Map<string, KeyObject>();
const MAX_VERIFICATION_KEYS = 16;

/**
 * The key object for a configured secret or PEM public key, made once:
 * given a string, `jsonwebtoken` parses it on every call (a secret is first
 * tried as a PEM public key), which costs about a millisecond per request.
 * Invalid key material throws, as `jsonwebtoken` would.
 */
function verificationKey(material: string, asymmetric: boolean): KeyObject {
  const id = `${asymmetric ? 'public' : 'secret'}:${material}`;
  let key = verificationKeys.get(id);
  if (!key) {
    key = asymmetric
      ? createPublicKey(material)
      : createSecretKey(Buffer.from(material, 'utf8'));
    // Only a host that changes its key again and again gets here.
    if (verificationKeys.size >= MAX_VERIFICATION_KEYS)
      verificationKeys.clear();
    verificationKeys.set(id, key);
  }
  return key;
}

/** A token verified before: its claims, and the issuer it was checked for. */
interface VerifiedToken {
  claims: JwtPayload & {exp: number};
  issuer: string | undefined;
}

/**
 * Tokens that passed verification, by key object and token: a client sends
 * the same token with every request until it expires, and its signature and
 * claims check out the same each time; only the clock moves. Only tokens
 * signed with the key get here.
 */
const verifiedTokens = new WeakMap<KeyObject, Map<string, VerifiedToken>>();
const MAX_VERIFIED_TOKENS = 1024;

/**
 * The claims of a token verified before with `key` and `issuer`, while the
 * clock still admits it as `jsonwebtoken` would (before `exp`, not before
 * `nbf`); none otherwise, and the token is verified again (an expired one
 * is then refused with `jsonwebtoken`'s own message).
 */
function stillValid(
  key: KeyObject,
  token: string,
  issuer: string | undefined,
): JwtPayload | undefined {
  const known = verifiedTokens.get(key)?.get(token);
  if (!known || known.issuer !== issuer) return undefined;
  const now = Math.floor(Date.now() / 1000);
  const {exp, nbf} = known.claims;
  if (now >= exp || (typeof nbf === 'number' && nbf > now)) {
    verifiedTokens.get(key)?.delete(token);
    return undefined;
  }
  return known.claims;
}

function remember(
  key: KeyObject,
  token: string,
  issuer: string | undefined,
  claims: JwtPayload,
): void {
  let tokens = verifiedTokens.get(key);
  if (!tokens) {
    tokens = new Map();
    verifiedTokens.set(key, tokens);
  }
  // Many users at once: the oldest are verified again when they return.
  if (tokens.size >= MAX_VERIFIED_TOKENS) tokens.clear();
  tokens.set(token, {
    claims: claims as VerifiedToken['claims'],
    issuer,
  });
}
