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
      const key = verificationKey(material, publicKey !== undefined);
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
