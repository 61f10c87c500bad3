"""The HTTP intake (上报接口): the mobile form's and the source networks' way in."""
